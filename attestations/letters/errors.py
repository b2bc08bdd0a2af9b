"""Why a letter code was refused. Each is an RFC 9457 problem for the platform API and names
a message (`messages.py`) for the resident's page; none says more than the one who typed the
code may know (a wrong code and an unknown code are the same answer)."""

from __future__ import annotations

from typing import ClassVar

from core import Conflict, InvalidInput, NotFound, Problem


class LetterRefused(Problem):
    """Base of the refusals; `message_key` is the resident's wording."""

    message_key: ClassVar[str] = "letters.error.unknown"


class MalformedLetterCode(LetterRefused, InvalidInput):
    slug = "letter-code-malformed"
    title = "This is not a letter code"
    message_key = "letters.error.malformed"


class UnknownLetterCode(LetterRefused, NotFound):
    slug = "letter-code-unknown"
    title = "Unknown letter code"
    message_key = "letters.error.unknown"


class LetterExpired(LetterRefused):
    status = 410
    slug = "letter-code-expired"
    title = "This letter code has expired"
    message_key = "letters.error.expired"


class LetterRevoked(LetterRefused):
    status = 410
    slug = "letter-code-revoked"
    title = "This letter code has been revoked"
    message_key = "letters.error.revoked"


class LetterTaken(LetterRefused, Conflict):
    """Redeemed already: by another account, or by this one with its proof collected."""

    slug = "letter-code-used"
    title = "This letter code has already been used"
    message_key = "letters.error.taken"


class LetterAlreadyYours(LetterTaken):
    """This account redeemed the letter already; its proof was collected or still waits."""

    message_key = "letters.error.yours"


class LetterForAnotherPoll(LetterRefused, Conflict):
    slug = "letter-code-other-poll"
    title = "This letter code is for another poll"
    message_key = "letters.error.other_poll"


class OneLetterPerPoll(LetterRefused, Conflict):
    """The account already holds a letter for the same poll (or, without a poll, a letter
    without one): one person, one letter."""

    slug = "letter-one-per-poll"
    title = "This account already used a letter for this poll"
    message_key = "letters.error.one_per_poll"


class AlreadyVoted(LetterRefused, Conflict):
    slug = "letter-already-voted"
    title = "This letter code has already voted in this poll"
    message_key = "letters.error.voted"


class InvalidVoteRequest(InvalidInput):
    slug = "invalid-letter-vote"
    title = "The paper vote request is not valid"


class InvalidLetterBatch(InvalidInput):
    slug = "invalid-letter-batch"
    title = "The letters cannot be generated"
