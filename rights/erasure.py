"""Erasure of a whole account (GDPR Art. 17) and its propagation to every platform that
received data (Art. 19), in the caller's transaction, through the request lifecycle of
`rights.lifecycle`:

1. the request is received (`receive_request`);
2. `executing`: every browser session ends, every grant (and with it every code and token) and
   every attestation (status list) is revoked;
3. each platform's pairwise `sub` is computed (platforms from the consent ledger and the
   grants), and per platform a RISC `account-purged` SET to its `events_uri` and an OIDC
   back-channel logout token to its `backchannel_logout_uri` are queued, linked to the request;
4. the resident's data key is destroyed (crypto-shredding: ciphertexts in backups become noise,
   and the audit reference becomes unlinkable), then the account, sessions, grants, tokens and
   consent records with their events, and the resident's pending authorization requests are
   deleted. Audit entries stay: they hold opaque references. The development mail outbox's
   copies of mail to the resident are deleted while the address can still be read;
5. `conclude`: `propagating` until every platform acknowledged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from adapters import ForgetsRecipients
from attestations import revoke_all_credentials, vouching
from consent import ConsentRecord, clients_with_data
from core import lock_named
from identity import (
    Account,
    Accounts,
    AuthorizationRequest,
    Client,
    Grant,
    Provider,
    account_email,
    end_account_sessions,
    enqueue_backchannel_logout,
    get_client,
    revoke_grant,
)
from rights.lifecycle import EXECUTING, conclude, link_delivery, receive_request
from rights.models import ErasureRequest
from rights.signals import ACCOUNT_PURGED, enqueue_security_event
from rights.tombstones import Tombstone, TombstoneJournal
from rights.vouching_mail import stage_lapse_mails
from rights.vouching_signals import VouchingSignals


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


def notify_platform(
    session: Session,
    provider: Provider,
    request: ErasureRequest,
    notice: PlatformNotice,
    sids: Iterable[str] = (),
) -> int:
    """Queue the platform's account-purged SET and back-channel logout tokens: one with `sub`
    alone, and one per session `sids` the resident had there (the grants' `sid`)."""
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
    # Back-Channel Logout 1.0 §2.4: `sub` alone ends every session of the resident there. An
    # RP may find its sessions only by the `sid` of their ID tokens (mod_auth_openidc does),
    # so each session the resident had there gets its own token with `sub` and `sid` as well.
    session_ids = [provider.subject_ids.session_for(client, sid) for sid in sorted(set(sids))]
    for sid in (None, *session_ids):
        delivery = enqueue_backchannel_logout(
            session, provider, client, notice.sub, sid=sid, correlation_id=request.id
        )
        if delivery is not None:
            queued += link_delivery(session, request, delivery, client_id=client.client_id)
    return queued


def _live_sessions(session: Session, account_id: str) -> dict[str, set[str]]:
    """The sessions (`sid`) in which the resident holds unrevoked grants, per platform."""
    found: dict[str, set[str]] = {}
    rows = session.execute(
        select(Grant.client_id, Grant.sid).where(
            Grant.account_id == account_id, Grant.revoked_at.is_(None)
        )
    )
    for client_id, sid in rows:
        found.setdefault(client_id, set()).add(sid)
    return found


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
    vouching_config: vouching.VouchingConfig | None = None,
) -> ErasureRequest:
    """Erase the resident and queue the notices to platforms. The caller commits; with
    `tombstones`, the erasure's tombstone is appended to the journal just before that commit
    (rights/tombstones.py). `replay`: see `receive_request`. With `vouching_config`, peer
    vouching forgets the account first, while its data key exists: the confirmations it gave
    stop counting and residents who fall below the threshold lose `real_person`, their
    platforms told and (with `accounts`, whose mailer it uses) the residents e-mailed once the
    caller commits (without it, the next periodic settle does this)."""
    if vouching_config is not None:
        # the vouching graph lock before the audit log's append lock (receive_request
        # appends), as every vouching act takes them: the other order deadlocks with a settle
        lock_named(session, vouching.GRAPH_LOCK)
    account, request, _ = receive_request(
        session,
        provider,
        account_id=account_id,
        requested_by=requested_by,
        actor=actor,
        reason=reason,
        now=now,
        replay=replay,
    )
    request.status = EXECUTING
    if vouching_config is not None:
        forgotten = vouching.forget_account(
            session,
            provider.subject_keys,
            vouching_config,
            account_id=account_id,
            actor=actor,
            now=now,
            listener=VouchingSignals.of(provider),
        )
        if accounts is not None:
            issuer = provider.config.issuer
            keys = provider.subject_keys
            stage_lapse_mails(session, accounts.mailer, keys, issuer, forgotten.lapsed)
    live = _live_sessions(session, account_id)
    revoked = _revoke_access(session, account_id, actor)
    also = replay.platforms if replay is not None else ()
    notices = _platforms(session, provider, account_id, also)
    queued = sum(
        notify_platform(session, provider, request, n, live.get(n.client.client_id, ()))
        for n in notices
    )
    if accounts is not None:
        _forget_login_failures(session, accounts, account)
    _delete_rows(session, provider, account_id)
    platforms = {n.client.client_id: () for n in notices}
    details = {**revoked, "platforms": sorted(platforms), "deliveries": queued}
    return conclude(
        session, request, account_id, details, platforms=platforms, tombstones=tombstones
    )
