"""The operator's side of letters after printing: revoking a batch or one code, and the
overview of what was issued and redeemed per postcode area (never per address).

Revoking a letter refuses its code from then on (redeeming and paper votes), and revokes the
credentials it gave (their status list entries), so a lost or stolen letter stops voting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from attestations.letters.config import LettersConfig
from attestations.letters.errors import UnknownLetterCode
from attestations.letters.lookup import REFERENCE_PURPOSE, find_letter, letter_reference
from attestations.letters.models import LetterBatch, LetterCode, LetterVote
from attestations.models import IssuedCredential
from attestations.statuslist import revoke_credential
from audit import record
from core import NotFound, rowcount, utcnow
from keys import SubjectKeys

REVOCATION_REASON = "letter_revoked"
CHUNK = 500


def _revoke_credentials_of(
    session: Session, letter_ids: Iterable[str], actor: str, now: dt.datetime
) -> int:
    holders = [letter_reference(i) for i in letter_ids]
    revoked = 0
    for start in range(0, len(holders), CHUNK):
        ids = session.scalars(
            select(IssuedCredential.id).where(
                IssuedCredential.pseudonym_holder.in_(holders[start : start + CHUNK]),
                IssuedCredential.revoked_at.is_(None),
            )
        ).all()
        for issued_id in ids:
            revoke_credential(session, issued_id, REVOCATION_REASON, actor, now)
        revoked += len(ids)
    return revoked


@dataclass(frozen=True)
class Revoked:
    letters: int  # newly revoked codes
    credentials: int  # credentials those letters had given, now revoked


def revoke_batch(
    session: Session, batch_id: str, actor: str, now: dt.datetime | None = None
) -> Revoked:
    """Revoke every code of a batch (idempotent) and what they gave."""
    moment = now or utcnow()
    batch = session.get(LetterBatch, batch_id)
    if batch is None:
        raise NotFound("No such batch of letters.")
    redeemed = session.scalars(
        select(LetterCode.id).where(
            LetterCode.batch_id == batch_id, LetterCode.redeemed_at.is_not(None)
        )
    ).all()
    result = session.execute(
        update(LetterCode)
        .where(LetterCode.batch_id == batch_id, LetterCode.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
    session.execute(
        update(LetterBatch)
        .where(LetterBatch.id == batch_id, LetterBatch.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
    credentials = _revoke_credentials_of(session, redeemed, actor, moment)
    outcome = Revoked(rowcount(result), credentials)
    record(session, "letters.revoked", actor, details={"batch": batch_id, **asdict(outcome)})
    return outcome


def revoke_code(
    session: Session,
    config: LettersConfig,
    code: str,
    actor: str,
    now: dt.datetime | None = None,
) -> Revoked:
    """Revoke one letter by its code (as printed; idempotent) and what it gave."""
    moment = now or utcnow()
    letter = find_letter(session, config, code)
    if letter is None:
        raise UnknownLetterCode()
    result = session.execute(
        update(LetterCode)
        .where(LetterCode.id == letter.id, LetterCode.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
    credentials = _revoke_credentials_of(session, [letter.id], actor, moment)
    outcome = Revoked(rowcount(result), credentials)
    details = {"letter": letter.id, "batch": letter.batch_id, **asdict(outcome)}
    record(session, "letter.revoked", actor, details=details)
    return outcome


def letters_status(session: Session, now: dt.datetime | None = None) -> dict[str, Any]:
    """Batches, and per postcode area how many letters were issued, redeemed, voted on paper,
    revoked and expired unused. Counts only: nothing per address or per letter."""
    moment = now or utcnow()
    batches = [
        {
            "batch": b.id,
            "created_at": b.created_at.isoformat(),
            "municipality_code": b.municipality_code,
            "poll_id": b.poll_id,
            "expires_at": b.expires_at.isoformat(),
            "letters": b.letter_count,
            "revoked": b.revoked_at is not None,
        }
        for b in session.scalars(select(LetterBatch).order_by(LetterBatch.created_at))
    ]

    def count_if(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    voted = select(LetterVote.letter_id).distinct().subquery()
    rows = session.execute(
        select(
            LetterCode.postcode_area,
            func.count(),
            count_if(LetterCode.redeemed_at.is_not(None)),
            count_if(voted.c.letter_id.is_not(None)),
            count_if(LetterCode.revoked_at.is_not(None)),
            count_if(
                (LetterCode.expires_at <= moment)
                & LetterCode.redeemed_at.is_(None)
                & LetterCode.revoked_at.is_(None)
            ),
        )
        .outerjoin(voted, voted.c.letter_id == LetterCode.id)
        .group_by(LetterCode.postcode_area)
        .order_by(LetterCode.postcode_area)
    ).all()
    areas = [
        {
            "postcode_area": area or None,  # None: erased (`forget_letters`)
            "issued": int(issued),
            "redeemed": int(redeemed or 0),
            "voted_on_paper": int(paper or 0),
            "revoked": int(revoked or 0),
            "expired_unused": int(expired or 0),
        }
        for area, issued, redeemed, paper, revoked, expired in rows
    ]
    return {"batches": batches, "areas": areas}


def forget_letters(session: Session, subject_keys: SubjectKeys, account_id: str) -> int:
    """The erasure of a resident's `postcode` field, for the letters they redeemed: their
    postcode, its area, the CBS code and the keyed address are erased from the letter rows,
    and the letters revoked, as the credentials they gave are (a paper vote with one would
    answer an area that is no longer known). The audit log's `letter.redeemed` entries name
    those letters under the resident's reference, so the rows would otherwise still say
    where the resident lives. The letters stay the resident's (one letter per poll); the
    status overview counts them without an area. Returns how many; the caller commits."""
    letter_ref = subject_keys.reference(session, account_id, REFERENCE_PURPOSE)
    erased = session.execute(
        update(LetterCode)
        .where(LetterCode.account_ref == letter_ref)
        .values(
            postcode="",
            postcode_area="",
            wijk_buurt=None,
            address_ref=None,
            revoked_at=func.coalesce(LetterCode.revoked_at, utcnow()),
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(erased)
