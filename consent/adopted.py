"""A resident's latest consent decisions at one platform, read by another statement of a
request's transaction (`ledger.latest_decisions_column`, joined to the browser session read
of authorize or the token read of UserInfo: one round trip less) and held for the rest of
that transaction, where `active_claims` and `decided_claims` answer from them. Held per
transaction only (`core.transaction_scoped`), dropped by a decision or a withdrawal in it; a
value that does not read back exactly is never held."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from core import transaction_scoped

_ADOPTED = "kluis.consent.latest_decisions"  # (account, client) -> {claim: event}


def adopt_decisions(session: Session, account_id: str, client_id: str, spelled: str | None) -> None:
    """The value of `latest_decisions_column` for this account and platform, read by the
    caller in the current transaction before it wrote anything (a savepoint rolled back later
    would not take it back): the ledger's reads answer from it for the rest of the
    transaction. It is held only if the claims and events read out of it spell it again
    exactly, each as its length in ASCII digits, a colon and the text; otherwise the ledger
    is read as before."""
    decisions = _read(spelled or "")
    if decisions is not None:
        transaction_scoped(session, _ADOPTED)[account_id, client_id] = decisions


def held_decisions(session: Session, account_id: str, client_id: str) -> Mapping[str, str] | None:
    """What `adopt_decisions` holds for this transaction (claim → latest event), or None."""
    held: Mapping[str, str] | None = transaction_scoped(session, _ADOPTED).get(
        (account_id, client_id)
    )
    return held


def drop_decisions(session: Session, account_id: str, client_id: str) -> None:
    """A decision or withdrawal changes the ledger: what was held for it is read again."""
    transaction_scoped(session, _ADOPTED).pop((account_id, client_id), None)


def _read(text: str) -> dict[str, str] | None:
    parts: list[str] = []
    at = 0
    while at < len(text):
        colon = text.find(":", at)
        digits = text[at:colon]
        if colon < 0 or not (digits.isascii() and digits.isdigit()):
            return None
        end = colon + 1 + int(digits)
        if end > len(text):
            return None
        parts.append(text[colon + 1 : end])
        at = end
    # the database's lengths and Python's agree (SQLite's length() stops at a NUL character)
    if len(parts) % 2 or "".join(f"{len(part)}:{part}" for part in parts) != text:
        return None
    claims = parts[::2]
    if len(set(claims)) != len(claims):
        return None
    return dict(zip(claims, parts[1::2], strict=True))
