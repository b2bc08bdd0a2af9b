"""Finding a letter by its code, and whether it can still be used: shared by redeeming and
by paper votes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.letters.codes import MalformedCode, normalize_code
from attestations.letters.config import LettersConfig
from attestations.letters.errors import (
    LetterExpired,
    LetterRefused,
    LetterRevoked,
    MalformedLetterCode,
)
from attestations.letters.models import LetterCode


def letter_reference(letter_id: str) -> str:
    """What a letter's credentials vote as (the holder part of their poll pseudonyms)."""
    return f"{LETTER_PREFIX}{letter_id}"


LETTER_PREFIX = "letter:"
REFERENCE_PURPOSE = "letters"  # the account's reference on a redeemed letter (`account_ref`)


def letter_poll(session: Session, holder: str) -> str | None:
    """The poll a letter's credentials vote in ("" for a letter without a poll: any poll),
    for the pseudonym holder `letter:<id>`; None when the holder is not a letter."""
    if not holder.startswith(LETTER_PREFIX):
        return None
    letter = session.get(LetterCode, holder[len(LETTER_PREFIX) :])
    return letter.poll_scope if letter is not None else ""


def find_letter(session: Session, config: LettersConfig, typed: str) -> LetterCode | None:
    try:
        code = normalize_code(typed)
    except MalformedCode as exc:
        raise MalformedLetterCode(str(exc)) from None
    return session.scalar(
        select(LetterCode)
        .where(LetterCode.code_hash == config.hasher(code))
        .execution_options(populate_existing=True)
    )


def unusable(letter: LetterCode, moment: dt.datetime) -> tuple[str, LetterRefused] | None:
    if letter.revoked_at is not None:
        return "revoked", LetterRevoked()
    if letter.expires_at <= moment:
        return "expired", LetterExpired()
    return None
