"""Voting on paper with a letter's code (`POST /letters/votes`): a platform's poll page takes
the code from a resident without a smartphone or an account; Kluis answers once per code,
platform (sector) and poll — the primary key of `letter_votes` is the arbiter, so concurrent
calls with one code give one answer — with the letter's postcode area and municipality and the
poll pseudonym a QR vote of the same letter gets (`attestations.verifier.pseudonym`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attestations.letters.config import LettersConfig
from attestations.letters.errors import (
    AlreadyVoted,
    InvalidVoteRequest,
    LetterForAnotherPoll,
    LetterRefused,
    UnknownLetterCode,
)
from attestations.letters.lookup import find_letter, letter_reference, unusable
from attestations.letters.models import LetterBatch, LetterVote
from attestations.types import neighbourhood_claims
from audit import record
from core import utcnow
from identity import poll_pseudonym, valid_poll_id

VOTE_CLAIMS = ("postcode_area", "municipality", "wijkcode", "buurtcode")
DEFAULT_VOTE_CLAIMS = ("postcode_area", "municipality")


def _vote_claims(requested: object) -> tuple[str, ...]:
    if requested is None:
        return DEFAULT_VOTE_CLAIMS
    if (
        not isinstance(requested, list)
        or not requested
        or not all(isinstance(c, str) and c in VOTE_CLAIMS for c in requested)
    ):
        raise InvalidVoteRequest(
            f"claims must be a non-empty list of: {', '.join(VOTE_CLAIMS)}", pointer="/claims"
        )
    return tuple(dict.fromkeys(requested))


def paper_vote(
    session: Session,
    config: LettersConfig,
    *,
    client_id: str,
    sector: str,
    code: object,
    poll_id: object,
    claims: object = None,
    now: dt.datetime | None = None,
) -> dict[str, object]:
    """A vote on paper with a letter's code at a platform (sector) in a poll: the letter's
    postcode area and municipality (or the claims asked for) and its poll pseudonym, once per
    code, platform and poll. The caller commits (a refusal changes nothing but the audit)."""
    moment = now or utcnow()
    if not isinstance(code, str):
        raise InvalidVoteRequest("code must be a string", pointer="/code")
    if not valid_poll_id(poll_id):
        raise InvalidVoteRequest(
            "poll_id must be 1 to 128 printable ASCII characters without spaces",
            pointer="/poll_id",
        )
    wanted = _vote_claims(claims)
    actor = f"client:{client_id}"
    letter = find_letter(session, config, code)
    refused: tuple[str, LetterRefused] | None
    if letter is None:
        refused = "unknown", UnknownLetterCode()
    elif letter.poll_scope and letter.poll_scope != poll_id:
        refused = "other_poll", LetterForAnotherPoll()
    else:
        refused = unusable(letter, moment)
    if refused is None and letter is not None:
        try:
            with session.begin_nested():
                session.add(
                    LetterVote(
                        letter_id=letter.id,
                        sector=sector,
                        poll_id=poll_id,
                        client_id=client_id,
                        voted_at=moment,
                    )
                )
        except IntegrityError:
            refused = "voted", AlreadyVoted()
    batch_detail = {"batch": letter.batch_id} if letter is not None else {}
    if refused is not None:
        record(session, "letter.vote_refused", actor, None, {"reason": refused[0], **batch_detail})
        raise refused[1]
    assert letter is not None
    batch = session.get(LetterBatch, letter.batch_id)
    assert batch is not None
    record(session, "letter.paper_voted", actor, None, batch_detail)
    values: dict[str, object] = {
        "postcode_area": letter.postcode_area,
        "municipality": {"code": batch.municipality_code, "name": batch.municipality_name},
    }
    if letter.wijk_buurt is not None:
        values.update(neighbourhood_claims(letter.wijk_buurt))
    body: dict[str, object] = {c: values[c] for c in wanted if c in values}
    body["poll_id"] = poll_id
    body["poll_pseudonym"] = poll_pseudonym(
        config.pseudonym_key, sector, poll_id, letter_reference(letter.id)
    )
    return body
