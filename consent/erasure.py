"""Erasure (GDPR Art. 17) and its propagation to every platform that received data (Art. 19).

`execute_erasure` runs in the caller's transaction, in this order:

1. record the request (`received`, due in 30 days, Art. 12(3)) under the resident's opaque
   audit reference, computed now because it cannot be computed once the data key is gone;
2. `executing`: end every browser session, revoke every grant (and with it every code and
   token) and every attestation (status list);
3. compute each platform's pairwise `sub` (platforms from the consent ledger and the grants)
   and queue per platform a RISC `account-purged` SET to its `events_uri` and an OIDC
   back-channel logout token to its `backchannel_logout_uri`, linked to the request;
4. destroy the resident's data key (crypto-shredding: ciphertexts in backups become noise, and
   the audit reference becomes unlinkable), then delete the account, sessions, grants, tokens
   and consent records with their events, and the resident's pending authorization requests.
   Audit entries stay: they hold opaque references. The development mail outbox's copies of
   mail to the resident are deleted while the address can still be read;
5. `propagating`. `refresh_erasure_states` (run by the background worker) moves a request to
   `completed` once every platform acknowledged (2xx), or to `overdue` past its due date.

A platform that registered no `events_uri` cannot be told automatically: it gets a `manual`
link, and the request stays open (never `completed`) until an operator records with
`record_platform_handled` how that platform was told (`kluis erasure handled`). The same
records a platform whose deliveries keep failing as handled another way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from adapters.mail import ForgetsRecipients
from adapters.outbox import Delivery, enqueue
from attestations import revoke_all_credentials
from consent.audit import Pending, record, record_many
from consent.ledger import clients_with_data
from consent.models import ConsentRecord, ErasureDelivery, ErasureRequest
from consent.signals import ACCOUNT_PURGED, enqueue_security_event
from consent.tombstones import Tombstone, TombstoneJournal
from core.db import utcnow
from identity.accounts.models import Account
from identity.accounts.service import Accounts, account_email
from identity.accounts.sessions import end_account_sessions
from identity.oidc.clients import get_client
from identity.oidc.logout import BACKCHANNEL_EVENT
from identity.oidc.logout import DELIVERY_KIND as BACKCHANNEL_LOGOUT
from identity.oidc.models import AuthorizationRequest, Client, Grant
from identity.oidc.provider import Provider
from identity.oidc.tokens import revoke_grant

ERASURE_PERIOD = dt.timedelta(days=30)
MAX_REASON = 500
RECEIVED, EXECUTING, PROPAGATING = "received", "executing", "propagating"
COMPLETED, OVERDUE = "completed", "overdue"
OPEN = (PROPAGATING, OVERDUE)
# the kind of a link to a platform that an operator must tell (no delivery behind it)
MANUAL = "manual"
MANUAL_PREFIX = "manual-"
REQUESTERS = ("resident", "operator")
_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+")
_POSTCODE = re.compile(r"\b[1-9][0-9]{3}\s?[A-Za-z]{2}\b")
_DATE = re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b")
_PHONE = re.compile(r"\+?\d[\d\s-]{8,}\d")


class ErasureError(ValueError):
    """An erasure request that cannot be accepted as given."""


class ReasonLooksPersonal(ErasureError):
    def __init__(self) -> None:
        super().__init__(
            "the reason looks like it contains personal data (an e-mail address, postcode, "
            "date or phone number); describe the reason without it"
        )


class UnknownAccount(ErasureError):
    def __init__(self) -> None:
        super().__init__("no such account")


def check_reason(reason: str | None) -> str:
    """Free text about why, never about whom: refuse anything that looks like personal data."""
    text = " ".join((reason or "").split())
    if len(text) > MAX_REASON:
        raise ErasureError(f"the reason is longer than {MAX_REASON} characters")
    if any(p.search(text) for p in (_EMAIL_LIKE, _POSTCODE, _DATE, _PHONE)):
        raise ReasonLooksPersonal()
    return text


@dataclasses.dataclass(frozen=True)
class PlatformNotice:
    client: Client
    sub: str


def _platforms(
    session: Session, provider: Provider, account_id: str, also: Iterable[str] = ()
) -> list[PlatformNotice]:
    """Every platform that may hold data about the resident, with its pairwise `sub`: from
    the ledger and the grants, and `also` (the platforms a re-applied erasure told before)."""
    client_ids = clients_with_data(session, account_id) | set(
        session.scalars(select(Grant.client_id).where(Grant.account_id == account_id))
    )
    return platform_notices(session, provider, account_id, client_ids | set(also))


def platform_notices(
    session: Session, provider: Provider, account_id: str, client_ids: Iterable[str]
) -> list[PlatformNotice]:
    """The platforms among `client_ids` that still exist, with the resident's `sub` there (a
    pairwise `sub` needs only the account id, not the account)."""
    notices = []
    for client_id in sorted(set(client_ids)):
        client = get_client(session, client_id)
        if client is not None:
            sub = provider.subject_ids.for_client(client, account_id)
            notices.append(PlatformNotice(client, sub))
    return notices


def link_delivery(
    session: Session, request: ErasureRequest, delivery: Delivery | None, *, client_id: str
) -> int:
    """Record that `delivery` tells platform `client_id` about `request` (1), or, when nothing
    could be queued (no `events_uri`), that an operator must tell it (a `manual` link, 0)."""
    if delivery is None:
        session.add(
            ErasureDelivery(
                delivery_id=MANUAL_PREFIX + uuid.uuid4().hex,
                request_id=request.id,
                client_id=client_id,
                kind=MANUAL,
            )
        )
        return 0
    session.add(
        ErasureDelivery(
            delivery_id=delivery.id,
            request_id=request.id,
            client_id=delivery.client_id,
            kind=delivery.kind,
        )
    )
    return 1


def manual_platforms(session: Session, request_id: str) -> list[str]:
    """The platforms of a request Kluis could not tell automatically (sorted client ids)."""
    return sorted(
        session.scalars(
            select(ErasureDelivery.client_id).where(
                ErasureDelivery.request_id == request_id, ErasureDelivery.kind == MANUAL
            )
        )
    )


def notify_platform(
    session: Session, provider: Provider, request: ErasureRequest, notice: PlatformNotice
) -> int:
    """Queue the platform's account-purged SET and back-channel logout token."""
    client = notice.client
    issuer = provider.config.issuer
    queued = link_delivery(
        session,
        request,
        client_id=client.client_id,
        delivery=enqueue_security_event(
            session,
            issuer=issuer,
            client=client,
            sub=notice.sub,
            event_type=ACCOUNT_PURGED,
            event={},
            correlation_id=request.id,
        ),
    )
    if client.backchannel_logout_uri:
        # Back-Channel Logout 1.0 §2.4: `sub` alone ends every session of the resident there.
        payload = {
            "iss": issuer,
            "aud": client.client_id,
            "sub": notice.sub,
            "jti": uuid.uuid4().hex,
            "events": {BACKCHANNEL_EVENT: {}},
            "alg": client.id_token_alg,
        }
        delivery = enqueue(
            session,
            kind=BACKCHANNEL_LOGOUT,
            client_id=client.client_id,
            target_uri=client.backchannel_logout_uri,
            payload=payload,
            correlation_id=request.id,
        )
        queued += link_delivery(session, request, delivery, client_id=client.client_id)
    return queued


def _revoke_access(session: Session, account_id: str, actor: str) -> dict[str, int]:
    sessions = end_account_sessions(session, account_id)
    grants = list(
        session.scalars(
            select(Grant.id).where(Grant.account_id == account_id, Grant.revoked_at.is_(None))
        )
    )
    for grant_id in grants:
        revoke_grant(session, grant_id, "erasure")
    credentials = revoke_all_credentials(session, account_id, "erasure", actor)
    return {"sessions": len(sessions), "grants": len(grants), "credentials": len(credentials)}


def _forget_login_failures(session: Session, accounts: Accounts, account: Account) -> None:
    """Failed-login counters are keyed hashes of the identifier: drop them while the address
    can still be decrypted. The development mail outbox (`.eml` files) keeps copies of mail
    to the resident: delete those too (a real SMTP relay keeps nothing here)."""
    email = account_email(session, accounts.subject_keys, account)
    for identifier in (email, account.handle):
        if identifier:
            accounts.limiter.clear_account(session, identifier)
    if email and isinstance(accounts.mailer, ForgetsRecipients):
        accounts.mailer.forget_recipient(email)


def _delete_rows(session: Session, provider: Provider, account_id: str) -> None:
    provider.subject_keys.destroy(session, account_id)
    # Consent events go with their records, codes and tokens with their grants, sessions,
    # one-time tokens and credential offers with the account (ON DELETE CASCADE).
    for statement in (
        delete(ConsentRecord).where(ConsentRecord.account_id == account_id),
        delete(Grant).where(Grant.account_id == account_id),
        delete(AuthorizationRequest).where(AuthorizationRequest.account_id == account_id),
        delete(Account).where(Account.id == account_id),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    session.expire_all()


def receive_request(
    session: Session,
    provider: Provider,
    *,
    account_id: str,
    requested_by: str,
    actor: str,
    reason: str | None,
    field: str | None = None,
    now: dt.datetime | None = None,
    replay: Tombstone | None = None,
) -> tuple[Account, ErasureRequest, str]:
    """Step 1 of every erasure (whole account or one field): check the request, lock the
    account, store the request as `received` with its due date (Art. 12(3)) and audit it.
    Returns the account, the request and the resident's opaque reference.

    `replay` re-applies an erasure from the tombstone journal after a restore: the request
    keeps its id, its reference and its date (so its due date)."""
    if requested_by not in REQUESTERS:
        raise ErasureError(f"requested_by must be one of {REQUESTERS}")
    reason_text = check_reason(reason)
    # The row lock makes a concurrent second request for the same resident wait, then find
    # no account (PostgreSQL; SQLite serialises writers anyway).
    account = session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise UnknownAccount()
    now = replay.received_at if replay is not None else now or utcnow()
    ref = (
        replay.subject_ref
        if replay is not None
        else provider.subject_keys.reference(session, account_id)
    )
    request = ErasureRequest(
        id=replay.request_id if replay is not None else uuid.uuid4().hex,
        subject_ref=ref,
        requested_by=requested_by,
        actor=actor,
        reason=reason_text,
        field=field,
        status=RECEIVED,
        received_at=now,
        due_at=now + ERASURE_PERIOD,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    details: dict[str, str] = {"request": request.id, "by": requested_by}
    if field is not None:
        details["field"] = field
    record(session, "erasure.received", actor, ref, details)
    return account, request, ref


def execute_erasure(
    session: Session,
    provider: Provider,
    *,
    account_id: str,
    requested_by: str,
    actor: str,
    reason: str | None = None,
    accounts: Accounts | None = None,
    now: dt.datetime | None = None,
    tombstones: TombstoneJournal | None = None,
    replay: Tombstone | None = None,
) -> ErasureRequest:
    """Erase the resident and queue the notices to platforms. The caller commits; with
    `tombstones`, the erasure's tombstone is appended to the journal just before that commit
    (consent/tombstones.py). `replay`: see `receive_request`."""
    account, request, ref = receive_request(
        session,
        provider,
        account_id=account_id,
        requested_by=requested_by,
        actor=actor,
        reason=reason,
        now=now,
        replay=replay,
    )
    now = request.received_at
    request.status = EXECUTING
    revoked = _revoke_access(session, account_id, actor)
    also = replay.platforms if replay is not None else ()
    notices = _platforms(session, provider, account_id, also)
    queued = sum(notify_platform(session, provider, request, notice) for notice in notices)
    if accounts is not None:
        _forget_login_failures(session, accounts, account)
    _delete_rows(session, provider, account_id)

    request.status = PROPAGATING
    request.executed_at = request.updated_at = utcnow()
    session.flush()
    record(
        session,
        "erasure.executed",
        actor,
        ref,
        {
            "request": request.id,
            **revoked,
            "platforms": sorted(n.client.client_id for n in notices),
            "deliveries": queued,
            "manual": manual_platforms(session, request.id),
        },
    )
    if tombstones is not None:
        tombstones.stage(
            session, tombstone_of(request, account_id, {n.client.client_id: () for n in notices})
        )
    refresh_erasure_states(session, now, request_id=request.id)
    return request


def tombstone_of(
    request: ErasureRequest, account_id: str, platforms: Mapping[str, tuple[str, ...]]
) -> Tombstone:
    """What the journal keeps of an executed request: its ids, never its reason."""
    return Tombstone(
        request_id=request.id,
        account_id=account_id,
        subject_ref=request.subject_ref,
        field=request.field,
        requested_by=request.requested_by,
        actor=request.actor,
        received_at=request.received_at,
        platforms=platforms,
    )


def _refresh_one(session: Session, request: ErasureRequest, now: dt.datetime) -> Pending | None:
    """Move one request on; returns the audit entry to append when it changed (else None)."""
    links = list(
        session.scalars(select(ErasureDelivery).where(ErasureDelivery.request_id == request.id))
    )
    for link in links:
        if link.acknowledged_at is None:
            delivery = session.get(Delivery, link.delivery_id)
            if delivery is not None and delivery.delivered_at is not None:
                link.acknowledged_at = delivery.delivered_at
    pending = sorted({link.client_id for link in links if link.acknowledged_at is None})
    if not pending:
        request.status = COMPLETED
        request.completed_at = request.updated_at = now
        return Pending("erasure.completed", "system", request.subject_ref, {"request": request.id})
    if now >= request.due_at and request.status != OVERDUE:
        request.status = OVERDUE
        request.updated_at = now
        details = {"request": request.id, "unacknowledged": pending}
        return Pending("erasure.overdue", "system", request.subject_ref, details)
    return None


def refresh_erasure_states(
    session: Session, now: dt.datetime | None = None, *, request_id: str | None = None
) -> list[ErasureRequest]:
    """Move propagating (and overdue) requests on: `completed` when every delivery was
    acknowledged, `overdue` once past the due date. Returns the requests that changed."""
    now = now or utcnow()
    # Several app processes run this: each request is handled by whoever locks it first.
    query = (
        select(ErasureRequest)
        .where(ErasureRequest.status.in_(OPEN))
        .with_for_update(skip_locked=True)
    )
    if request_id is not None:
        query = query.where(ErasureRequest.id == request_id)
    changed, entries = [], []
    for request in session.scalars(query):
        entry = _refresh_one(session, request, now)
        if entry is not None:
            changed.append(request)
            entries.append(entry)
    # One append for every request that moved on, in this same transaction.
    record_many(session, entries)
    session.flush()
    return changed


class NotOpen(ErasureError):
    def __init__(self) -> None:
        super().__init__("no open erasure request with this id (it is unknown or completed)")


class NothingPending(ErasureError):
    def __init__(self) -> None:
        super().__init__("that platform has nothing pending for this erasure request")


class NoteRequired(ErasureError):
    def __init__(self) -> None:
        super().__init__("say how the platform was told (for example: by e-mail to its admin)")


def record_platform_handled(
    session: Session,
    *,
    request_id: str,
    client_id: str,
    actor: str,
    note: str,
    now: dt.datetime | None = None,
) -> ErasureRequest:
    """An operator records that a platform was told of an erasure another way than by Kluis's
    own deliveries (it has no `events_uri`, or they keep failing). Every open link of that
    platform counts as acknowledged; the request completes when nothing else is pending. The
    caller commits."""
    text = check_reason(note)
    if not text:
        raise NoteRequired()
    request = session.get(ErasureRequest, request_id, with_for_update=True)
    if request is None or request.status not in OPEN:
        raise NotOpen()
    links = list(
        session.scalars(
            select(ErasureDelivery).where(
                ErasureDelivery.request_id == request_id,
                ErasureDelivery.client_id == client_id,
                ErasureDelivery.acknowledged_at.is_(None),
            )
        )
    )
    if not links:
        raise NothingPending()
    now = now or utcnow()
    for link in links:
        link.acknowledged_at, link.handled_by, link.note = now, actor, text
    session.flush()
    details = {"request": request.id, "client": client_id, "kinds": sorted(li.kind for li in links)}
    record(session, "erasure.platform_handled", actor, request.subject_ref, details)
    refresh_erasure_states(session, now, request_id=request.id)
    return request


@dataclasses.dataclass(frozen=True)
class PlatformState:
    client_id: str
    name: str  # the platform's name, as residents and stewards know it
    kind: str
    delivery_id: str
    attempts: int
    last_status: int | None
    last_error: str | None
    acknowledged_at: dt.datetime | None
    handled_by: str | None = None
    note: str | None = None

    @property
    def manual(self) -> bool:
        return self.kind == MANUAL


def erasure_requests(session: Session) -> list[ErasureRequest]:
    return list(
        session.scalars(
            select(ErasureRequest).order_by(ErasureRequest.received_at, ErasureRequest.id)
        )
    )


def erasure_deliveries(session: Session, request_id: str) -> list[PlatformState]:
    """Per-platform delivery state of one request."""
    states = []
    links = session.scalars(
        select(ErasureDelivery)
        .where(ErasureDelivery.request_id == request_id)
        .order_by(ErasureDelivery.client_id, ErasureDelivery.kind)
    )
    for link in links:
        delivery = session.get(Delivery, link.delivery_id)
        client = get_client(session, link.client_id)
        states.append(
            PlatformState(
                client_id=link.client_id,
                name=client.name if client is not None else link.client_id,
                kind=link.kind,
                delivery_id=link.delivery_id,
                attempts=delivery.attempts if delivery else 0,
                last_status=delivery.last_status if delivery else None,
                last_error=delivery.last_error if delivery else None,
                acknowledged_at=link.acknowledged_at,
                handled_by=link.handled_by,
                note=link.note,
            )
        )
    return states
