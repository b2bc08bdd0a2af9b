"""Verification sessions: a platform asks, a wallet answers, the platform reads the result.

Domain functions only (no HTTP). A session moves pending → scanned (request object fetched) →
done (verified presentation), or ends as cancelled (platform or wallet) or expired (its
`expires_at` passed: computed on read, so no sweeper is needed). Every state change is one
conditional UPDATE, so concurrent requests on any app process cannot finish a session twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from attestations.config import AttestationConfig
from attestations.types import TYPES, CredentialType
from attestations.verifier.config import VerifierConfig
from attestations.verifier.dcql import DcqlQuery, parse_query
from attestations.verifier.errors import InvalidSessionRequest, SessionNotFound
from attestations.verifier.models import VerifierSession
from attestations.verifier.purge import purge_when_due
from attestations.verifier.request_object import REQUEST_COLUMNS, RequestedSession
from attestations.verifier.trust import trusted_vct_values
from attestations.verifier.wakeup import notify_returning
from attestations.verifier.widget import check_return_uri
from attestations.wallet.models import WalletPairing
from audit import record_if
from core import Prepared, utcnow
from identity import valid_poll_id

OPEN = ("pending", "scanned")
FINAL = ("done", "cancelled", "expired")
MAX_PURPOSE = 500


@functools.lru_cache(maxsize=8)
def _own_types(issuer: str) -> Mapping[str, CredentialType]:
    config = AttestationConfig(issuer)
    return {config.vct(t.id): t for t in TYPES.values()}


def known_types(issuer: str) -> dict[str, CredentialType]:
    """Kluis's own credential types by `vct`."""
    return dict(_own_types(issuer))


def _named_vct_values(raw: Any) -> set[str] | None:
    """The `vct_values` a query not yet validated names; None if it is not shaped as a query
    (then `parse_query` says what is wrong)."""
    credentials = raw.get("credentials") if isinstance(raw, Mapping) else None
    if not isinstance(credentials, list):
        return None
    named: set[str] = set()
    for credential in credentials:
        meta = credential.get("meta") if isinstance(credential, Mapping) else None
        values = meta.get("vct_values") if isinstance(meta, Mapping) else None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        named.update(values)
    return named


def accepted_types(
    session: Session, issuer: str, query: Any = None
) -> dict[str, CredentialType | None]:
    """The `vct` values this verifier accepts: Kluis's own types, and those accepted from the
    issuers an operator trusts (types unknown to Kluis: None).

    Given the `query` to be checked, the trusted issuers are read only if it names a type that
    is not Kluis's own: no issuer can be trusted for Kluis's own types
    (`trust._check_vct_values`), so for such a query the answer is the same without the read.
    """
    own: dict[str, CredentialType | None] = dict(_own_types(issuer))
    named = _named_vct_values(query) if query is not None else None
    if named is not None and named <= own.keys():
        return own
    accepted: dict[str, CredentialType | None] = {vct: None for vct in trusted_vct_values(session)}
    accepted.update(own)
    return accepted


def query_of(dcql_query: Mapping[str, Any], issuer: str) -> DcqlQuery:
    """A session's query, validated when it was created. Its types are Kluis's own and those
    of issuers that were trusted then; an issuer the operator has stopped trusting since
    leaves its `vct` in the query, and the presentation is then refused at the issuer check,
    not here. So no trusted issuer needs to be read: every `vct` of the query that is not
    Kluis's own is accepted here as a type unknown to Kluis (None)."""
    accepted: dict[str, CredentialType | None] = dict(_own_types(issuer))
    for credential in dcql_query.get("credentials", []):
        for vct in credential.get("meta", {}).get("vct_values", []):
            accepted.setdefault(vct, None)
    return parse_query(dcql_query, accepted)


def _purpose(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PURPOSE:
        raise InvalidSessionRequest(
            f"purpose is required: 1 to {MAX_PURPOSE} characters shown to the resident",
            pointer="/purpose",
        )
    return " ".join(value.split())


def _poll_id(value: Any) -> str | None:
    if value is None:
        return None
    if not valid_poll_id(value):
        raise InvalidSessionRequest(
            "poll_id must be 1 to 128 printable ASCII characters without spaces",
            pointer="/poll_id",
        )
    return value


# every column bound (those not given are NULL); RETURNING, for `record_if`
_INSERT = Prepared(insert(VerifierSession).returning(VerifierSession.id))
_UNSET = dict.fromkeys(VerifierSession.__table__.c.keys())


def create_session(
    session: Session, config: VerifierConfig, client_id: str, body: Any
) -> VerifierSession:
    """Validate the platform's request and store a pending session (not committed)."""
    if not isinstance(body, Mapping):
        raise InvalidSessionRequest("the body must be a JSON object")
    if "dcql_query" not in body:
        raise InvalidSessionRequest("dcql_query is required", pointer="/dcql_query")
    parse_query(body["dcql_query"], accepted_types(session, config.issuer, body["dcql_query"]))
    purpose, poll_id = _purpose(body.get("purpose")), _poll_id(body.get("poll_id"))
    return_uri = check_return_uri(session, client_id, body.get("return_uri"))
    now = utcnow()
    purge_when_due(session, now)
    values: dict[str, Any] = {
        "id": secrets.token_urlsafe(24),
        "client_id": client_id,
        "kind": "platform",
        "dcql_query": body["dcql_query"],
        "purpose": purpose,
        "poll_id": poll_id,
        "return_uri": return_uri,
        "nonce": secrets.token_urlsafe(32),  # 256 bits (§5.2 asks for at least 128)
        "state": secrets.token_urlsafe(32),
        "status": "pending",
        "created_at": now,
        "expires_at": now + config.session_ttl,
    }
    # one INSERT with its audit entry (on PostgreSQL one statement: `record_if`); the row
    # returned is not attached to the session (read it back with `session.get`)
    details = {"session": values["id"], "credentials": len(body["dcql_query"]["credentials"])}
    event, actor = "verifier.session_created", f"client:{client_id}"
    record_if(session, _INSERT, {**_UNSET, **values}, event, actor, details=details)
    return VerifierSession(**values)


def session_links(config: VerifierConfig, row: VerifierSession) -> dict[str, Any]:
    return {
        "session_id": row.id,
        "status_url": config.status_url(row.id),
        "qr_payload": config.qr_payload(row.id),
        "universal_link": config.universal_link(row.id),
        "qr_png_url": f"{config.status_url(row.id)}/qr.png",
        "qr_svg_url": f"{config.status_url(row.id)}/qr.svg",
        "expires_at": row.expires_at.isoformat().replace("+00:00", "Z"),
    }


class TimedRow(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> dt.datetime: ...


class StatusRow(TimedRow, Protocol):
    """What the status of a session is read from: a `VerifierSession`, or the columns of one
    read without the ORM (`STATUS_COLUMNS`)."""

    @property
    def id(self) -> str: ...
    @property
    def result(self) -> str | None: ...
    @property
    def result_expires_at(self) -> dt.datetime | None: ...


STATUS_COLUMNS = (
    VerifierSession.id,
    VerifierSession.status,
    VerifierSession.expires_at,
    VerifierSession.result,
    VerifierSession.result_expires_at,
)
_CLIENT_SESSION = Prepared(
    select(*STATUS_COLUMNS).where(
        VerifierSession.id == bindparam("id"), VerifierSession.client_id == bindparam("client_id")
    )
)


def effective_status(row: TimedRow, now: dt.datetime | None = None) -> str:
    if row.status in OPEN and row.expires_at <= (now or utcnow()):
        return "expired"
    return row.status


def session_for_client(session: Session, client_id: str, session_id: str) -> VerifierSession:
    """A platform sees only its own sessions; others get the same 404 as unknown ids."""
    row = session.get(VerifierSession, session_id)
    if row is None or row.client_id != client_id:
        raise SessionNotFound()
    return row


def status_for_client(session: Session, client_id: str, session_id: str) -> StatusRow:
    """`session_for_client` for reading the status: the columns it needs, one Core read (no
    ORM object). Another platform's session is as unknown as a missing one."""
    params = {"id": session_id, "client_id": client_id}
    row: StatusRow | None = _CLIENT_SESSION.first(session, params)
    if row is None:
        raise SessionNotFound()
    return row


def live_session(session: Session, session_id: str) -> VerifierSession | None:
    row = session.get(VerifierSession, session_id)
    if row is None or effective_status(row) not in OPEN:
        return None
    return row


def status_body(session: Session, row: StatusRow) -> dict[str, Any]:
    """`{status, result?}`. A result past its short lifetime is erased on the way."""
    now = utcnow()
    body: dict[str, Any] = {"status": effective_status(row, now)}
    if body["status"] == "scanned":
        pairing = session.get(WalletPairing, row.id)
        if pairing is not None:  # the built-in wallet asks the resident to type this code
            body["pairing_code"] = pairing.code
    if row.result is not None and row.result_expires_at is not None:
        if row.result_expires_at > now:
            body["result"] = row.result
            body["result_expires_at"] = row.result_expires_at.isoformat().replace("+00:00", "Z")
        else:
            clear_result(session, row.id)
    return body


def clear_result(session: Session, session_id: str) -> None:
    session.execute(
        update(VerifierSession)
        .where(VerifierSession.id == session_id)
        .values(result=None, result_expires_at=None)
    )


_TRANSITIONS: dict[tuple[Any, ...], Any] = {}  # built once per shape: building cost more CPU


def _transition_statement(session: Session, to: str, keys: tuple[str, ...], returning: Any) -> Any:
    shape = (to, keys, returning, session.get_bind().dialect.name)
    statement = _TRANSITIONS.get(shape)
    if statement is None:  # the NOTIFY expression too is built once per shape
        notify = notify_returning(session, VerifierSession.id)
        sources = ("pending",) if to == "scanned" else OPEN
        statement = _TRANSITIONS[shape] = Prepared(
            update(VerifierSession)
            .where(
                VerifierSession.id == bindparam("session_id"),
                or_(*(VerifierSession.status == source for source in sources)),
                VerifierSession.expires_at > bindparam("now"),
            )
            .values(status=to, **{key: bindparam(f"v_{key}") for key in keys})
            .returning(VerifierSession.id, *returning, *notify)
        )
    return statement


def _transition(
    session: Session,
    session_id: str,
    to: str,
    now: dt.datetime,
    returning: tuple[Any, ...] = (),
    audit: tuple[str, str, Mapping[str, Any]] | None = None,
    **values: Any,
) -> Any | None:
    """One conditional UPDATE from an open, unexpired state: the session's `returning`
    columns if this call won, None if it lost. On PostgreSQL the same statement sends the
    NOTIFY that wakes waiting platforms when it commits (`notify_returning`), and appends the
    `audit` entry (event, actor, details) if it won (`record_if`). A row this session holds
    is expired, so it is read again when next used."""
    statement = _transition_statement(session, to, tuple(sorted(values)), returning)
    params = {"session_id": session_id, "now": now, **{f"v_{k}": v for k, v in values.items()}}
    if audit is None:
        won = statement.first(session, params)  # (pending changes flushed first)
    else:
        won = record_if(session, statement, params, audit[0], audit[1], details=audit[2])
    held = session.identity_map.get(identity_key(VerifierSession, session_id))
    if won is not None and held is not None:
        session.expire(held)
    return won


def mark_scanned(session: Session, session_id: str) -> None:
    now = utcnow()
    _transition(session, session_id, "scanned", now, scanned_at=now)


def scan_session(session: Session, session_id: str) -> RequestedSession | None:
    """The wallet fetches the request object of an open session: pending → scanned by one
    conditional UPDATE that returns what the request object is made of. A session scanned
    already (a wallet fetching it again) is served as it is while it is open."""
    now = utcnow()
    won = _transition(session, session_id, "scanned", now, REQUEST_COLUMNS, scanned_at=now)
    if won is not None:
        scanned: RequestedSession = won
        return scanned
    return live_session(session, session_id)


def cancel_session(session: Session, row: VerifierSession, actor: str, reason: str) -> bool:
    """Cancel an open session, with its `verifier.session_cancelled` entry (on PostgreSQL one
    statement); False, and nothing appended, if it was no longer open."""
    now = utcnow()
    audit = ("verifier.session_cancelled", actor, {"session": row.id})
    won = _transition(
        session, row.id, "cancelled", now, audit=audit, finished_at=now, end_reason=reason
    )
    session.refresh(row)
    return won is not None


def finish_session(
    session: Session,
    session_id: str,
    result: str,
    result_expires_at: dt.datetime,
    details: Mapping[str, Any],
) -> bool:
    """Store the result and close the session, with the wallet's `verifier.presented` entry
    (`details`); False if it was no longer open (nothing is appended then)."""
    now = utcnow()
    won = _transition(
        session,
        session_id,
        "done",
        now,
        audit=("verifier.presented", "wallet", details),
        finished_at=now,
        result=result,
        result_expires_at=result_expires_at,
        end_reason="presented",
    )
    return won is not None
