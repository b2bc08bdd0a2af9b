"""The claims under consent at one platform, read by another statement of a request's
transaction (`ledger.active_claims_column`, joined to UserInfo's token read: one round trip
less) and held for the rest of that transaction, where `ledger.active_claims` answers from
them. Held per transaction only (`core.transaction_scoped`), dropped by a decision or a
withdrawal in it; a value that does not read back exactly is never held."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import transaction_scoped

_ADOPTED = "kluis.consent.active_claims"  # (account, client) -> frozenset, per transaction


def adopt_active_claims(
    session: Session, account_id: str, client_id: str, spelled: str | None
) -> None:
    """The value of `active_claims_column` for this account and platform, read by the caller
    in the current transaction before it wrote anything (a savepoint rolled back later would
    not take it back): `active_claims` answers from it for the rest of the transaction. It is
    held only if it spells exactly the claims read out of it, each as its length in ASCII
    digits, a colon and the name; otherwise `active_claims` reads the ledger itself."""
    claims = _read(spelled or "")
    if claims is not None:
        transaction_scoped(session, _ADOPTED)[account_id, client_id] = claims


def held_active_claims(session: Session, account_id: str, client_id: str) -> frozenset[str] | None:
    """What `adopt_active_claims` holds for this transaction, or None."""
    held: frozenset[str] | None = transaction_scoped(session, _ADOPTED).get((account_id, client_id))
    return held


def drop_active_claims(session: Session, account_id: str, client_id: str) -> None:
    """A decision or withdrawal changes the ledger: what was held for it is read again."""
    transaction_scoped(session, _ADOPTED).pop((account_id, client_id), None)


def _read(text: str) -> frozenset[str] | None:
    names: list[str] = []
    at = 0
    while at < len(text):
        colon = text.find(":", at)
        digits = text[at:colon]
        if colon < 0 or not (digits.isascii() and digits.isdigit()):
            return None
        end = colon + 1 + int(digits)
        if end > len(text):
            return None
        names.append(text[colon + 1 : end])
        at = end
    # the database's lengths and Python's agree (SQLite's length() stops at a NUL character)
    if "".join(f"{len(name)}:{name}" for name in names) != text:
        return None
    return frozenset(names)
