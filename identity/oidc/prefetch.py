"""What a token request will need later, read with its grant in one statement: the active
signing key's kid for the client's ID token algorithm and the resident's wrapped data key
(for the audit reference and the claims). On PostgreSQL each statement is a round trip;
these two were one each on every token and UserInfo request.

The values are handed to `Keyring.note_active_kid` and `SubjectKeys.adopt`, which hold them
for the current transaction only: the signing key is still read in every transaction that
signs (all processes rotate together) and a data key is never kept beyond one transaction
(crypto-shredding unchanged).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from core import Prepared
from identity.oidc.models import Grant
from identity.oidc.provider import Provider
from keys import active_kid_column, models

# keyed by the statement itself (held here, so never confused with a later one) and the alg
_WITH_KEYS: dict[tuple[Select[Any], str | None], Prepared] = {}


def with_keys(statement: Select[Any], alg: str | None) -> Prepared:
    """`statement` (which selects from `oidc_grants`) with three more columns at its end: the
    active kid of `alg` (None if `alg` is None: nothing will be signed), and the resident's
    wrapped data key and its KEK fingerprint (NULL if the key was destroyed). Built and
    compiled once per statement and algorithm (`core.Prepared`: its entities come back as
    snapshots, for reading); binds `now` when `alg` is set."""
    key = (statement, alg)
    built = _WITH_KEYS.get(key)
    if built is None:
        columns: list[Any] = [models.SubjectKey.wrapped_key, models.SubjectKey.kek_fingerprint]
        if alg is not None:
            columns.insert(0, active_kid_column(alg))
        built = Prepared(
            statement.add_columns(*columns).outerjoin(
                models.SubjectKey, models.SubjectKey.subject_id == Grant.account_id
            )
        )
        _WITH_KEYS[key] = built
    return built


def adopt_keys(
    session: Session, provider: Provider, grant: Grant, row: Any, alg: str | None
) -> None:
    """Hands the columns `with_keys` added (at the end of `row`) to the keyring and the
    resident's keys, for the rest of this transaction."""
    wrapped, kek = row[-2], row[-1]
    if alg is not None:
        provider.keyring.note_active_kid(session, alg, row[-3])
    provider.subject_keys.adopt(session, grant.account_id, wrapped, kek)
