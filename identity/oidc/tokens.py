"""The token endpoint's grants (RFC 6749 §4.1.3, §6; OIDC Core §3.1.3) and the ID token.

- Authorization codes are consumed atomically; presenting a used code revokes the grant and
  every token already issued from it (RFC 6749 §4.1.2, RFC 9700 §4.5).
- Refresh tokens rotate on every use; presenting a rotated one revokes the grant (RFC 9700
  §4.14.2).
- Without `offline_access`, codes and refresh tokens die with the browser session (see
  `logout.py`); with it, they still die with the account (disabled or erased).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from audit import record, record_if
from core import (
    InvalidGrant,
    InvalidRequest,
    Prepared,
    new_token,
    rowcount,
    token_hash,
    utcnow,
)
from identity.oidc.consume import consume_code, consume_refresh, read_grant
from identity.oidc.grants import GrantType
from identity.oidc.models import AuthorizationCode, Client, Grant, Token
from identity.oidc.pkce import check_code_verifier
from identity.oidc.prefetch import adopt_keys
from identity.oidc.provider import Provider
from identity.oidc.release import record_release, released_claims, resolve_claims
from keys import PendingJwt


def revoke_grant(session: Session, grant_id: str, reason: str) -> None:
    now = utcnow()
    session.execute(
        update(Grant).where(Grant.id == grant_id, Grant.revoked_at.is_(None)).values(revoked_at=now)
    )
    session.execute(
        update(Token)
        .where(Token.grant_id == grant_id, Token.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    grant = session.get(Grant, grant_id)
    if grant is not None:
        record(
            session, "grant.revoked", "system", None, {"client": grant.client_id, "reason": reason}
        )


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: left half of SHA-256 (RS256 and ES256 both use SHA-256)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def build_id_token(
    session: Session,
    provider: Provider,
    client: Client,
    grant: Grant,
    access_token: str,
    *,
    nonce: str | None,
) -> PendingJwt:
    """The ID token, signed once the transaction has committed (`routes_token`)."""
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": provider.config.issuer,
        "sub": provider.subject_ids.for_client(client, grant.account_id),
        "aud": client.client_id,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + provider.config.id_token_ttl,
        "auth_time": int(grant.auth_time.timestamp()),
        "acr": grant.acr,
        "amr": grant.amr,
        "sid": provider.subject_ids.session_for(client, grant.sid),
        "at_hash": at_hash(access_token),
    }
    if nonce:
        claims["nonce"] = nonce
    names = released_claims(session, grant, "id_token")
    values = resolve_claims(session, provider, client, grant, names) if names else {}
    claims.update({k: v for k, v in values.items() if k not in claims})
    pending = provider.keyring.prepare_jwt(
        session, claims, client.id_token_alg, headers={"typ": "JWT"}
    )
    record_release(session, provider, grant, values, "id_token")
    return pending


_TOKENS = cast(Table, Token.__table__)
# The access and the refresh token in one two-row INSERT (`core.Prepared`: on the driver). Not
# an executemany: psycopg runs that in pipeline mode, whose set-up and teardown cost more
# Python than the statement; parameters are named `<column>_0` and `<column>_1`.
_INSERT_TOKENS = Prepared(  # RETURNING, for `record_if`
    insert(_TOKENS)
    .values(
        [{c.key: bindparam(f"{c.key}_{i}", type_=c.type) for c in _TOKENS.columns} for i in (0, 1)]
    )
    .returning(_TOKENS.c.token_hash)
)


def _token_row(grant: Grant, kind: str, ttl: int, scope: str) -> tuple[str, dict[str, Any]]:
    """A new token's value and its row (with only the value's hash)."""
    value = new_token(32)
    now = utcnow()
    row = {
        "token_hash": token_hash(value),
        "kind": kind,
        "grant_id": grant.id,
        "client_id": grant.client_id,
        "scope": scope,
        "issued_at": now,
        "expires_at": now + dt.timedelta(seconds=ttl),
        "used_at": None,
        "revoked_at": None,
    }
    return value, row


def issue_tokens(
    session: Session,
    provider: Provider,
    client: Client,
    grant: Grant,
    *,
    grant_type: str,
    nonce: str | None,
    scope: str | None = None,
) -> dict[str, Any]:
    cfg = provider.config
    scope = scope or grant.scope
    access, access_row = _token_row(grant, "access", cfg.access_token_ttl, scope)
    refresh, refresh_row = _token_row(grant, "refresh", cfg.refresh_token_ttl, grant.scope)
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": cfg.access_token_ttl,
        "refresh_token": refresh,
        "scope": scope,
        "id_token": build_id_token(session, provider, client, grant, access, nonce=nonce),
    }
    # One INSERT of both rows (the caller's pending changes flushed first; the ORM's unit of
    # work cost more than the statement) with the audit entry: on PostgreSQL one statement.
    rows = {f"{key}_0": value for key, value in access_row.items()}
    rows.update((f"{key}_1", value) for key, value in refresh_row.items())
    record_if(
        session,
        _INSERT_TOKENS,
        rows,
        "token.issued",
        f"client:{client.client_id}",
        provider.subject_keys.reference(session, grant.account_id),
        {"client": client.client_id, "grant_type": grant_type},
    )
    return body


class _CodeView(Protocol):
    """What the code exchange reads of a consumed code (a row or an `AuthorizationCode`)."""

    @property
    def grant_id(self) -> str: ...
    @property
    def redirect_uri(self) -> str: ...
    @property
    def code_challenge(self) -> str: ...
    @property
    def expires_at(self) -> dt.datetime: ...


def _consume_code_checked(
    session: Session, client: Client, code_hash: str, verifier: str | None
) -> AuthorizationCode:
    """Read, check, then consume: unknown codes and other clients' codes are invalid, a PKCE
    code without a verifier is refused unconsumed, and a used code revokes its grant."""
    row = session.get(AuthorizationCode, code_hash)
    if row is None or row.client_id != client.client_id:
        raise InvalidGrant("the authorization code is invalid")
    if row.code_challenge and not verifier:
        raise InvalidRequest("code_verifier is required (PKCE)")
    consumed = session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if rowcount(consumed) != 1:
        revoke_grant(session, row.grant_id, "authorization_code_reuse")
        session.commit()
        raise InvalidGrant("the authorization code was already used; its tokens are revoked")
    return row


def exchange_code(
    session: Session, provider: Provider, client: Client, form: Mapping[str, str]
) -> dict[str, Any]:
    code = form.get("code")
    if not code:
        raise InvalidRequest("code is required")
    verifier = form.get("code_verifier")
    code_hash = token_hash(code)
    # The usual case in one statement: consume this client's unused code and read it back.
    # Without a code_verifier the code is read first, so that a PKCE code without one is
    # refused before it is consumed.
    row: _CodeView | None = None
    found: tuple[Any, ...] | None = None
    alg = client.id_token_alg
    if verifier is not None:
        params = {"hash": code_hash, "client": client.client_id, "now": utcnow()}
        consumed = consume_code(session, params, alg)
        if consumed is not None:
            row, found = consumed
    if row is None:
        row = _consume_code_checked(session, client, code_hash, verifier)
    if row.expires_at <= utcnow():
        raise InvalidGrant("the authorization code has expired")
    if form.get("redirect_uri") != row.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request")
    check_code_verifier(verifier, row.code_challenge)
    if found is None:  # SQLite, or the code was read first: the grant's own read
        found = read_grant(session, {"grant": row.grant_id, "now": utcnow()}, alg)
    grant = found[0] if found is not None else None
    if found is None or grant is None or grant.revoked_at is not None:
        raise InvalidGrant("the grant was revoked")
    # A logout or a disabling revokes the grants it finds, but not one whose code authorize
    # wrote just after it committed (on PostgreSQL authorize reads and writes in two
    # statements): the session and the account are checked here, as for a refresh.
    _require_live(session, grant, found)
    adopt_keys(session, provider, grant, found, alg)
    return issue_tokens(
        session, provider, client, grant, grant_type="authorization_code", nonce=grant.nonce
    )


def _require_live(session: Session, grant: Grant, found: tuple[Any, ...]) -> None:
    """A grant lives only as long as its account is active and, without offline access, as
    long as its browser session (`found`: the grant, the session's and the account's
    liveness, as `consume` reads them): one that outlived either is revoked (committed) and
    the request refused."""
    live, active = found[1], found[2]
    if not active or ("offline_access" not in grant.scope.split() and not live):
        revoke_grant(session, grant.id, "session_ended" if active else "account_inactive")
        session.commit()
        raise InvalidGrant("the grant has ended")  # neither which nor why, to the platform


def _refuse_refresh_token(session: Session, client: Client, hashed: str) -> NoReturn:
    """Why a refresh token could not be consumed: unknown, another client's or not a refresh
    token (invalid), or used already, which revokes the grant (RFC 9700 §4.14.2).

    The failed consuming UPDATE may still hold a lock on the token's row (PostgreSQL locks
    the row it re-checks after waiting), and revoking needs the grant's row and every token
    of the grant: with concurrent reuses that order could deadlock. So the transaction, which
    has consumed nothing (client authentication commits what it consumes), is rolled back
    first, and the token is read and the grant revoked in a new one."""
    session.rollback()
    row = session.get(Token, hashed)
    if row is None or row.kind != "refresh" or row.client_id != client.client_id:
        raise InvalidGrant("the refresh token is invalid")
    if row.used_at is not None and row.revoked_at is None:
        revoke_grant(session, row.grant_id, "refresh_token_reuse")
        session.commit()
    raise InvalidGrant("the refresh token was already used or revoked")


def refresh(
    session: Session, provider: Provider, client: Client, form: Mapping[str, str]
) -> dict[str, Any]:
    value = form.get("refresh_token")
    if not value:
        raise InvalidRequest("refresh_token is required")
    hashed = token_hash(value)
    # The usual case: rotate out this client's live refresh token and read its grant, whether
    # its browser session is live and the keys it needs (one statement on PostgreSQL).
    alg = client.id_token_alg
    params = {"hash": hashed, "client": client.client_id, "now": utcnow()}
    consumed = consume_refresh(session, params, alg)
    if consumed is None:
        _refuse_refresh_token(session, client, hashed)
    row, found = consumed
    grant = found[0] if found is not None else None
    if found is None or grant is None or grant.revoked_at is not None:
        raise InvalidGrant("the grant was revoked")
    adopt_keys(session, provider, grant, found, alg)
    if row.expires_at <= utcnow():
        raise InvalidGrant("the refresh token has expired")
    _require_live(session, grant, found)
    requested_scope = form.get("scope")
    scope = None
    if requested_scope:
        if not set(requested_scope.split()) <= set(grant.scope.split()):
            raise InvalidGrant("a refresh may not widen the scope")
        scope = " ".join(sorted(set(requested_scope.split())))  # RFC 6749 §6: may narrow
    return issue_tokens(
        session, provider, client, grant, grant_type="refresh_token", nonce=None, scope=scope
    )


_TOKEN_AND_GRANT = (
    select(Token, Grant)
    .join(Grant, Grant.id == Token.grant_id)
    .where(Token.token_hash == bindparam("hash"))
)


def active_token(
    session: Session, value: str, kind: str | None = None
) -> tuple[Token, Grant] | None:
    """The token and its grant if the token is currently valid, else None."""
    if not value or len(value) >= 256:
        return None
    found = session.execute(_TOKEN_AND_GRANT, {"hash": token_hash(value)}).first()
    if found is None or not is_active(found[0], found[1], kind):
        return None
    return found[0], found[1]


def is_active(row: Token, grant: Grant, kind: str | None = None) -> bool:
    """Whether a token (of `kind`, if given) is currently valid: unused, unrevoked, unexpired,
    and its grant unrevoked."""
    if kind and row.kind != kind:
        return False
    if row.revoked_at is not None or row.used_at is not None or row.expires_at <= utcnow():
        return False
    return grant.revoked_at is None


def revoke_token(session: Session, value: str, client: Client) -> None:
    """RFC 7009 §2.1: revoking a refresh token also revokes the grant's access tokens."""
    row = session.get(Token, token_hash(value)) if value and len(value) < 256 else None
    if row is None or row.client_id != client.client_id:
        return  # §2.2: unknown tokens are not an error
    if row.kind == "refresh":
        revoke_grant(session, row.grant_id, "revoked_by_client")
    else:
        row.revoked_at = row.revoked_at or utcnow()


def grants_in_session(session: Session, sid: str) -> list[Grant]:
    return list(session.scalars(select(Grant).where(Grant.sid == sid, Grant.revoked_at.is_(None))))


def _client_grant(
    exchange: Callable[[Session, Provider, Client, Mapping[str, str]], dict[str, Any]],
) -> Callable[[Session, Provider, Client | None, Mapping[str, str]], dict[str, Any]]:
    def handle(
        session: Session, provider: Provider, client: Client | None, form: Mapping[str, str]
    ) -> dict[str, Any]:
        assert client is not None  # the endpoint authenticates the client of these grants
        return exchange(session, provider, client, form)

    return handle


# the provider's own grants; `service` registers them with the others (identity.oidc.grants)
CLIENT_GRANTS = (
    GrantType("authorization_code", _client_grant(exchange_code)),
    GrantType("refresh_token", _client_grant(refresh)),
)
