"""Consuming an authorization code or a refresh token, and reading its grant with what the
token request needs of it (identity/oidc/prefetch.py).

Single use rests on one conditional `UPDATE … WHERE unused … RETURNING`: of concurrent
requests exactly one matches the row. On PostgreSQL that UPDATE and the grant's read are one
statement (a data-modifying `WITH`, whose `SELECT` joins what the `UPDATE` returned to the
grant): one round trip less per token request. SQLite cannot put an `UPDATE` in a `WITH`, so
there the grant is read with a second statement of the same transaction. Either way nothing
is consumed unless the request's transaction commits.

On PostgreSQL the grant (and the browser session's liveness, the account's status, the kid,
the data key) is read as of the statement's start: if the `UPDATE` first waits for another
transaction's lock on the code or token row, a change that transaction made to the grant is
not seen. This holds because whatever revokes a grant or destroys a resident's key also
changes or deletes that grant's live tokens (`revoke_grant`, logout, consent withdrawal) or
the grant with its codes and tokens (erasure): the waiting `UPDATE` then matches no row and
the request is refused.
Keep it so: a new way to revoke a grant must also revoke its tokens.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, exists, select, update
from sqlalchemy.orm import Session

from core import Prepared
from identity.accounts.models import Account, AccountStatus
from identity.accounts.sessions import live_session_clause
from identity.oidc.models import AuthorizationCode, Grant, Token
from identity.oidc.prefetch import with_keys

_CODES = cast(Table, AuthorizationCode.__table__)
_TOKENS = cast(Table, Token.__table__)
# The statements are built once (their cache keys with them); values are bound per call.
CONSUME_CODE = (
    update(_CODES)
    .where(
        _CODES.c.code_hash == bindparam("hash"),
        _CODES.c.client_id == bindparam("client"),
        _CODES.c.used_at.is_(None),
    )
    .values(used_at=bindparam("now"))
    .returning(
        _CODES.c.grant_id, _CODES.c.redirect_uri, _CODES.c.code_challenge, _CODES.c.expires_at
    )
)
_CONSUME_REFRESH = (
    update(_TOKENS)
    .where(
        _TOKENS.c.token_hash == bindparam("hash"),
        _TOKENS.c.kind == "refresh",
        _TOKENS.c.client_id == bindparam("client"),
        _TOKENS.c.used_at.is_(None),
        _TOKENS.c.revoked_at.is_(None),
    )
    .values(used_at=bindparam("now"))
    .returning(_TOKENS.c.grant_id, _TOKENS.c.expires_at)
)
# Read with every grant a token request uses: whether its browser session is live and whether
# its account is active (not disabled, not erased), two columns after the grant's.
_LIVE = live_session_clause(Grant.sid, bindparam("now"))
_ACTIVE = exists().where(
    Account.id == Grant.account_id, Account.status == AccountStatus.ACTIVE.value
)
_GRANT_AND_LIVE = select(Grant, _LIVE, _ACTIVE).where(Grant.id == bindparam("grant"))


def _consumed_with(consume: Any, *grant_columns: Any) -> Select[Any]:
    """PostgreSQL: `consume`'s returned columns, then `grant_columns` of the grant they name
    (outer-joined: a missing grant reads as None)."""
    consumed = consume.cte("consumed")
    return (
        select(*consumed.c, *grant_columns)
        .select_from(consumed)
        .outerjoin(Grant, Grant.id == consumed.c.grant_id)
    )


_CODE_WITH_GRANT = _consumed_with(CONSUME_CODE, Grant, _LIVE, _ACTIVE)
_REFRESH_WITH_GRANT = _consumed_with(_CONSUME_REFRESH, Grant, _LIVE, _ACTIVE)
_CONSUME_CODE = Prepared(CONSUME_CODE)  # SQLite: the UPDATE alone, then `read_grant`
_CONSUME_REFRESH_ROW = Prepared(_CONSUME_REFRESH)
# where the grant row starts in a row of each (after the consumed code's or token's columns)
_CODE_COLUMNS = len(CONSUME_CODE.returning_column_descriptions)
_REFRESH_COLUMNS = len(_CONSUME_REFRESH.returning_column_descriptions)


def read_grant(session: Session, params: dict[str, Any], alg: str) -> Any:
    """The grant (`params`: grant, now), whether its browser session is live and its account
    active, and the keys (`with_keys`), or None."""
    return with_keys(_GRANT_AND_LIVE, alg).first(session, params)


def _one_statement(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def consume_code(
    session: Session, params: dict[str, Any], alg: str
) -> tuple[Any, tuple[Any, ...] | None] | None:
    """Consume this client's unused code (`params`: hash, client, now). Returns the code's
    columns and, on PostgreSQL, its grant row with the browser session's liveness, the
    account's status and the keys (else None: `read_grant` it); None if nothing was
    consumed."""
    if not _one_statement(session):
        row = _CONSUME_CODE.first(session, params)
        return None if row is None else (row, None)
    found = with_keys(_CODE_WITH_GRANT, alg).first(session, params)
    return None if found is None else (found, tuple(found)[_CODE_COLUMNS:])


def consume_refresh(
    session: Session, params: dict[str, Any], alg: str
) -> tuple[Any, tuple[Any, ...] | None] | None:
    """Rotate out this client's live refresh token (`params`: hash, client, now). Returns the
    token's columns (grant_id, expires_at) and its grant row with the browser session's
    liveness and the keys (on SQLite the second statement runs here); None if nothing was
    consumed."""
    if not _one_statement(session):
        row = _CONSUME_REFRESH_ROW.first(session, params)
        if row is None:
            return None
        grant_params = {"grant": row.grant_id, "now": params["now"]}
        found = read_grant(session, grant_params, alg)
        return row, None if found is None else tuple(found)
    both = with_keys(_REFRESH_WITH_GRANT, alg).first(session, params)
    return None if both is None else (both, tuple(both)[_REFRESH_COLUMNS:])
