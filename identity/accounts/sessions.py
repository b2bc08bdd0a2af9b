"""Browser sessions: who is logged in, in which browser, since when and how.

The `kluis_session` cookie (HttpOnly, SameSite=Lax, Secure on https, path /) holds a random
256-bit session id; the database stores only its SHA-256 hash, so a leaked table cannot be
replayed as cookies. The OpenID provider reads sessions through `current_session` and ends
them through `end_browser_session`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from fastapi import Request, Response
from sqlalchemy import ColumnExpressionArgument, Exists, bindparam, exists, select, update
from sqlalchemy.orm import Session

from audit import record
from consent import adopt_decisions, latest_decisions_column
from core import SESSION_COOKIE as SESSION_COOKIE  # the cookie of these sessions, re-exported
from core import Prepared, token_hash, utcnow
from identity.accounts.models import Account, AccountStatus, BrowserSessionRecord
from keys import SubjectKeys

ACR_PASSWORD = "urn:kluis:acr:password"  # noqa: S105 (an ACR value, not a password)
AMR_PASSWORD = "pwd"  # noqa: S105 (RFC 8176 method name)
# Login by QR: the wallet proved possession of the key its Kluis credential is bound to
# (OpenID4VP key binding). IANA AMR "pop" (proof of possession of a key, hardware- or
# software-secured unknown); "hwk"/"swk" would claim knowledge about the key we lack.
ACR_ATTESTED = "urn:kluis:acr:attested"
AMR_WALLET = "pop"
MAX_SID_LENGTH = 128


@dataclasses.dataclass
class BrowserSession:
    sid: str
    account_id: str
    auth_time: dt.datetime
    amr: list[str]
    acr: str


def public_sid(sid: str) -> str:
    """The identifier of a session that may leave the service (OIDC `sid` claim, grants).
    It is the stored hash, never the cookie value: a platform that sees it cannot replay it."""
    return token_hash(sid)


def start_browser_session(
    session: Session,
    account_id: str,
    *,
    ttl: dt.timedelta,
    amr: list[str] | None = None,
    acr: str = ACR_PASSWORD,
) -> BrowserSession:
    now = utcnow()
    sid = secrets.token_urlsafe(32)
    methods = list(amr) if amr is not None else [AMR_PASSWORD]
    session.add(
        BrowserSessionRecord(
            id_hash=token_hash(sid),
            account_id=account_id,
            auth_time=now,
            amr=methods,
            acr=acr,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return BrowserSession(sid=sid, account_id=account_id, auth_time=now, amr=methods, acr=acr)


_LIVE = (
    select(
        BrowserSessionRecord.account_id,
        BrowserSessionRecord.auth_time,
        BrowserSessionRecord.amr,
        BrowserSessionRecord.acr,
    )
    .join(Account, Account.id == BrowserSessionRecord.account_id)
    .where(
        BrowserSessionRecord.id_hash == bindparam("id_hash"),
        BrowserSessionRecord.ended_at.is_(None),
        BrowserSessionRecord.expires_at > bindparam("now"),
        Account.status == AccountStatus.ACTIVE.value,
    )
)
_LIVE_SESSION = Prepared(_LIVE)  # every authorize request with a session cookie runs it
# ... with the resident's latest consent decisions at the platform `client` (authorize)
_LIVE_SESSION_AND_DECISIONS = Prepared(
    _LIVE.add_columns(latest_decisions_column(BrowserSessionRecord.account_id, bindparam("client")))
)


def find_browser_session(
    session: Session, sid: str | None, *, decisions_at: str | None = None
) -> BrowserSession | None:
    """The live session with this id: not ended, not expired, account still active. With
    `decisions_at` (a client id), the resident's latest consent decisions at that platform
    are read with it and held for the rest of the transaction (`consent.adopt_decisions`:
    one round trip less; only before the transaction writes anything)."""
    if not sid or len(sid) > MAX_SID_LENGTH:
        return None
    params = {"id_hash": token_hash(sid), "now": utcnow()}
    if decisions_at is None:
        row = _LIVE_SESSION.first(session, params)
    else:
        row = _LIVE_SESSION_AND_DECISIONS.first(session, {**params, "client": decisions_at})
        if row is not None:
            adopt_decisions(session, row.account_id, decisions_at, row[-1])
    if row is None:
        return None
    return BrowserSession(
        sid=sid,
        account_id=row.account_id,
        auth_time=row.auth_time,
        amr=list(row.amr),
        acr=row.acr,
    )


def live_session_clause(
    public: ColumnExpressionArgument[str] | str,
    now: ColumnExpressionArgument[dt.datetime] | dt.datetime,
) -> Exists:
    """Whether the session with this public sid is still live (not ended, not expired at
    `now`), as an SQL expression: a column of a query that reads something else about the
    session (the refresh grant reads it with the grant)."""
    return exists().where(
        BrowserSessionRecord.id_hash == public,
        BrowserSessionRecord.ended_at.is_(None),
        BrowserSessionRecord.expires_at > now,
    )


def current_session(
    request: Request, session: Session, *, decisions_at: str | None = None
) -> BrowserSession | None:
    """The browser session of this request's cookie, or None (missing, expired, ended);
    `decisions_at` as `find_browser_session` takes it."""
    return find_browser_session(
        session, request.cookies.get(SESSION_COOKIE), decisions_at=decisions_at
    )


def end_browser_session(
    session: Session,
    sid: str,
    *,
    subject_keys: SubjectKeys | None = None,
    actor: str = "resident",
) -> None:
    """End one session (idempotent) and audit it; with `subject_keys` the audit entry names
    the resident by their opaque reference. The caller commits."""
    if not sid or len(sid) > MAX_SID_LENGTH:
        return
    row = session.scalar(
        select(BrowserSessionRecord).where(
            BrowserSessionRecord.id_hash == token_hash(sid), BrowserSessionRecord.ended_at.is_(None)
        )
    )
    if row is None:
        return
    row.ended_at = utcnow()
    subject_ref = subject_keys.reference(session, row.account_id) if subject_keys else None
    record(session, "session.ended", actor, subject_ref, {"reason": "logout"})
    session.flush()


def end_account_sessions(session: Session, account_id: str) -> list[str]:
    """End every live session of the account (after a password reset); returns their public
    sids."""
    live = BrowserSessionRecord.account_id == account_id, BrowserSessionRecord.ended_at.is_(None)
    ended = list(session.scalars(select(BrowserSessionRecord.id_hash).where(*live)))
    session.execute(update(BrowserSessionRecord).where(*live).values(ended_at=utcnow()))
    return ended


def set_session_cookie(response: Response, sid: str, *, secure: bool, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
