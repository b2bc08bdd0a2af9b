"""The status of a credential Kluis issued, read from its own Status List's rows (Token Status
List §8.3 from the issuer's side): what the status endpoint would serve, without signing a
token and decoding it again. A request's first read can fetch it with its own row
(`own_status_columns`, `note_own_status`): one round trip less for a verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from attestations.errors import StatusUnavailable
from attestations.models import IssuedCredential, StatusList
from attestations.statuslist import INVALID, VALID
from core import transaction_scoped

# the list's size and whether the entry at `idx` is revoked, in one read
_OWN_STATUS = select(
    StatusList.size,
    select(IssuedCredential.id)
    .where(
        IssuedCredential.status_list_id == StatusList.id,
        IssuedCredential.status_idx == bindparam("idx"),
        IssuedCredential.revoked_at.is_not(None),
    )
    .exists(),
).where(StatusList.id == bindparam("list_id"))
_MAX_INDEX = 2**31 - 1  # `status_idx` is an INTEGER column
# session.info key: the same two values read by another statement of the current transaction
_NOTED = "kluis.attestations.own_status"


def _bound(idx: int) -> int:
    """An index no column can hold matches no credential; the size check refuses it."""
    return idx if 0 <= idx <= _MAX_INDEX else -1


def own_status(session: Session, list_id: str, idx: int) -> int:
    """The status at `idx` of Kluis's own list `list_id`: one read of the list's size and of
    the one entry (its credential's `revoked_at`), or what `note_own_status` noted for this
    entry in the session's current transaction. Raises `StatusUnavailable` only when there is
    no such list or `idx` lies outside it (§8.3: no statement can be made); database faults
    propagate."""
    row = transaction_scoped(session, _NOTED).get((list_id, idx))
    if row is None:
        params = {"list_id": list_id, "idx": _bound(idx)}
        row = session.execute(_OWN_STATUS, params).first() or (None, False)
    size, revoked = row
    if size is None:
        raise StatusUnavailable("status list not found")
    if not 0 <= idx < size:
        raise StatusUnavailable("status index lies outside the list")
    return INVALID if revoked else VALID


def own_status_columns() -> tuple[Any, Any]:
    """`own_status`'s two values as scalar subqueries (the size NULL: no such list) binding
    `status_list` and `status_idx` (`own_status_params`), for another statement to read them
    with its own row. Hand the values to `note_own_status`."""
    size = select(StatusList.size).where(StatusList.id == bindparam("status_list"))
    revoked = select(IssuedCredential.id).where(
        IssuedCredential.status_list_id == bindparam("status_list"),
        IssuedCredential.status_idx == bindparam("status_idx"),
        IssuedCredential.revoked_at.is_not(None),
    )
    return size.scalar_subquery(), revoked.exists()


def own_status_params(list_id: str, idx: int) -> dict[str, Any]:
    return {"status_list": list_id, "status_idx": _bound(idx)}


def note_own_status(
    session: Session, list_id: str, idx: int, size: int | None, revoked: bool
) -> None:
    """What `own_status_columns` read in the session's current transaction: `own_status`
    answers from it for entry `idx` of `list_id` until the transaction ends."""
    transaction_scoped(session, _NOTED)[(list_id, idx)] = (size, bool(revoked))
