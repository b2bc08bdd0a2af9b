"""What a resident may see of their own attestations: METADATA of their credential offers and
issued credentials (type, dates, state). Never a claim value, a code or a PIN: Kluis does not
keep issued claim values, and an offer's waiting claims and codes stay where they are.

Plain read functions returning frozen dataclasses, so other packages (the account page) never
touch this package's tables.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.models import CredentialOffer, IssuedCredential
from core import utcnow


class OfferState(enum.StrEnum):
    OPEN = "open"  # the wallet can still collect it
    USED = "used"  # collected
    EXPIRED = "expired"
    BLOCKED = "blocked"  # too many wrong transaction codes


class CredentialState(enum.StrEnum):
    VALID = "valid"
    PARTLY_REVOKED = "partly_revoked"  # some copies of a batch revoked
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class OfferSummary:
    type: str
    created_at: dt.datetime
    expires_at: dt.datetime
    state: OfferState
    id: str = ""  # lets the resident keep an open offer in the built-in wallet


@dataclass(frozen=True)
class CredentialSummary:
    """One issuance: the batch of copies a wallet received in one credential request (all of
    one type, issued at the same moment). Each copy has its own status; `revoked` counts the
    revoked ones."""

    type: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    copies: int
    revoked: int
    state: CredentialState


def _offer_state(offer: CredentialOffer, now: dt.datetime, max_tx_attempts: int) -> OfferState:
    if offer.used_at is not None:
        return OfferState.USED
    if offer.failed_tx_attempts >= max_tx_attempts:
        return OfferState.BLOCKED
    if offer.expires_at <= now:
        return OfferState.EXPIRED
    return OfferState.OPEN


def offers_for_account(
    session: Session,
    account_id: str,
    *,
    now: dt.datetime | None = None,
    max_tx_attempts: int = AttestationConfig.max_tx_attempts,
) -> list[OfferSummary]:
    """The resident's credential offers still on record (dead ones are purged a day after
    they expire), newest first."""
    moment = now or utcnow()
    rows = session.scalars(
        select(CredentialOffer)
        .where(CredentialOffer.account_id == account_id)
        .order_by(CredentialOffer.created_at.desc(), CredentialOffer.id)
    )
    return [
        OfferSummary(
            o.type, o.created_at, o.expires_at, _offer_state(o, moment, max_tx_attempts), o.id
        )
        for o in rows
    ]


def _credential_state(
    copies: int, revoked: int, expires_at: dt.datetime, now: dt.datetime
) -> CredentialState:
    if revoked == copies:
        return CredentialState.REVOKED
    if expires_at <= now:
        return CredentialState.EXPIRED
    if revoked:
        return CredentialState.PARTLY_REVOKED
    return CredentialState.VALID


def credentials_for_account(
    session: Session, account_id: str, *, now: dt.datetime | None = None
) -> list[CredentialSummary]:
    """The resident's issued credentials, one summary per issuance, newest first."""
    moment = now or utcnow()
    batches: dict[tuple[str, dt.datetime, dt.datetime], list[bool]] = defaultdict(list)
    rows = session.execute(
        select(
            IssuedCredential.type,
            IssuedCredential.issued_at,
            IssuedCredential.expires_at,
            IssuedCredential.revoked_at,
        ).where(IssuedCredential.account_id == account_id)
    )
    for type_id, issued_at, expires_at, revoked_at in rows:
        batches[(type_id, issued_at, expires_at)].append(revoked_at is not None)
    summaries = [
        CredentialSummary(
            type_id,
            issued_at,
            expires_at,
            len(flags),
            sum(flags),
            _credential_state(len(flags), sum(flags), expires_at, moment),
        )
        for (type_id, issued_at, expires_at), flags in batches.items()
    ]
    summaries.sort(key=lambda s: (s.issued_at, s.type), reverse=True)
    return summaries
