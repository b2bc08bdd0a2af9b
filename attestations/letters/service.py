"""Letters with a one-time code: generating a batch, redeeming a code for a `postcode`
attestation, and answering a platform's paper vote. Plain functions over a session; no HTTP.

- `generate_letters`: one code per address (or `per_address`), stored only as keyed hashes
  with the postcode, its area, the CBS wijk/buurt code and the keyed hash of the address (for
  peer vouching's shared-address rule); the printable letters are returned, never stored. All
  or nothing: one transaction.
- `redeem_letter`: a logged-in resident types the code. Every attempt is counted (per account
  and per client address) and COMMITTED before the code is looked up, and given back when the
  code exists. The letter is taken with one conditional UPDATE (`redeemed_at IS NULL`), so of
  any number of concurrent redemptions exactly one wins; it binds the letter to the account.
  The resident gets a credential offer with `residence_source: letter`, whose credentials
  vote as the letter (`pseudonym_holder`), not as the account, and the letter's address
  reference becomes the account's for peer vouching (`vouching.record_address_ref`).
- `paper_vote` (`votes.py`): a platform sends a code and a poll; Kluis answers once per code,
  platform and poll, with the pseudonym a QR vote of the same letter gets.

Every state change is audited with opaque references only: no code, postcode or address.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attestations.issuance import CreatedOffer, create_offer
from attestations.letters.addresses import Address
from attestations.letters.codes import new_code
from attestations.letters.config import MAX_VALIDITY, LettersConfig
from attestations.letters.errors import (
    InvalidLetterBatch,
    LetterAlreadyYours,
    LetterRefused,
    LetterTaken,
    OneLetterPerPoll,
    UnknownLetterCode,
)
from attestations.letters.lookup import (
    REFERENCE_PURPOSE,
    find_letter,
    letter_reference,
    unusable,
)
from attestations.letters.models import LetterBatch, LetterCode
from attestations.models import CredentialOffer, IssuedCredential
from attestations.types import MAX_NAME_LENGTH, MUNICIPALITY_CODE, TIMEZONE
from attestations.vouching.addresses import record_address_ref
from audit import record
from core import rowcount, utcnow
from identity import valid_poll_id
from keys import SubjectKeys

MAX_PER_ADDRESS = 10
INSERT_CHUNK = 1000


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str

    def __post_init__(self) -> None:
        if not MUNICIPALITY_CODE.match(self.code):
            raise InvalidLetterBatch("the municipality must be a CBS code such as GM0363")
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise InvalidLetterBatch(f"the municipality name must be 1 to {MAX_NAME_LENGTH} long")


@dataclass(frozen=True)
class PrintedLetter:
    """One letter to print: the only place its code exists."""

    number: int
    address: Address
    code: str = field(repr=False)


@dataclass(frozen=True)
class GeneratedBatch:
    batch_id: str
    municipality: Municipality
    poll_id: str | None
    valid_until: dt.date
    expires_at: dt.datetime
    letters: list[PrintedLetter] = field(repr=False)


def expiry_of(valid_until: dt.date, now: dt.datetime) -> dt.datetime:
    """A letter is valid through `valid_until` in Amsterdam: it expires at the next midnight
    there. From today up to a year ahead."""
    today = now.astimezone(TIMEZONE).date()
    if not today <= valid_until <= today + MAX_VALIDITY:
        raise InvalidLetterBatch(
            f"--valid-until must lie between today and {MAX_VALIDITY.days} days from now"
        )
    midnight = dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(), TIMEZONE)
    return midnight.astimezone(dt.UTC)


def generate_letters(
    session: Session,
    config: LettersConfig,
    *,
    addresses: Sequence[Address],
    municipality: Municipality,
    valid_until: dt.date,
    per_address: int = 1,
    poll_id: str | None = None,
    actor: str,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> GeneratedBatch:
    """Store a batch of codes for `addresses` (already validated) and return the letters to
    print. Nothing is committed here: the caller commits once the letters are written."""
    moment = now or utcnow()
    if not 1 <= per_address <= MAX_PER_ADDRESS:
        raise InvalidLetterBatch(f"--per-address must be 1 to {MAX_PER_ADDRESS}")
    if poll_id is not None and not valid_poll_id(poll_id):
        raise InvalidLetterBatch("--poll must be 1 to 128 printable characters without spaces")
    if not addresses:
        raise InvalidLetterBatch("there are no addresses")
    expires_at = expiry_of(valid_until, moment)
    batch = LetterBatch(
        id=uuid.uuid4().hex,
        municipality_code=municipality.code,
        municipality_name=" ".join(municipality.name.split()),
        poll_id=poll_id,
        expires_at=expires_at,
        letter_count=len(addresses) * per_address,
        created_at=moment,
    )
    session.add(batch)
    session.flush()
    letters: list[PrintedLetter] = []
    rows: list[dict[str, object]] = []
    for address in addresses:
        address_ref = config.address_hasher(
            address.postcode, address.huisnummer, address.toevoeging
        )
        for _ in range(per_address):
            code = new_code()
            letters.append(PrintedLetter(len(letters) + 1, address, code))
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "batch_id": batch.id,
                    "code_hash": config.hasher(code),
                    "postcode": address.postcode,
                    "postcode_area": address.postcode[:4],
                    "wijk_buurt": address.buurtcode,
                    "address_ref": address_ref,
                    "poll_scope": poll_id or "",
                    "expires_at": expires_at,
                }
            )
            if len(rows) == INSERT_CHUNK:
                session.execute(insert(LetterCode), rows)
                rows = []
                if progress is not None:
                    progress(INSERT_CHUNK)
    if rows:
        session.execute(insert(LetterCode), rows)
        if progress is not None:
            progress(len(rows))
    record(
        session,
        "letters.generated",
        actor,
        details={
            "batch": batch.id,
            "letters": len(letters),
            "per_address": per_address,
            "municipality_code": municipality.code,
            "for_a_poll": poll_id is not None,
            "expires_at": expires_at.isoformat(),
        },
    )
    return GeneratedBatch(batch.id, municipality, poll_id, valid_until, expires_at, letters)


# --- redeeming -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RedeemedLetter:
    offer: CreatedOffer
    postcode_area: str


def _refuse(
    session: Session, subject_ref: str, reason: str, error: LetterRefused, batch: str | None
) -> LetterRefused:
    """Audit a refused redemption and commit it with the counted attempt; the caller raises."""
    details = {"reason": reason, **({"batch": batch} if batch else {})}
    record(session, "letter.redeem_refused", "resident", subject_ref, details)
    session.commit()
    return error


def _spent(
    session: Session, config: LettersConfig, letter: LetterCode, moment: dt.datetime
) -> bool:
    """Whether the letter gave (or may still give) a credential: one was issued from it, or
    its offer was collected or can still be collected. Only an offer that died uncollected
    (expired, out of transaction-code attempts, or purged) leaves it unspent."""
    issued = session.scalar(
        select(IssuedCredential.id)
        .where(IssuedCredential.pseudonym_holder == letter_reference(letter.id))
        .limit(1)
    )
    if issued is not None:
        return True
    offer = session.get(CredentialOffer, letter.offer_id) if letter.offer_id else None
    if offer is None:
        return False
    if offer.used_at is not None:
        return True
    attempts_left = offer.failed_tx_attempts < config.attestations.max_tx_attempts
    return offer.expires_at > moment and attempts_left


def redeem_letter(
    session: Session,
    config: LettersConfig,
    subject_keys: SubjectKeys,
    *,
    account_id: str,
    code: str,
    ip: str,
    now: dt.datetime | None = None,
) -> RedeemedLetter:
    """Redeem a letter code for the resident: a `postcode` credential offer. Raises
    `LoginThrottled` (nothing counted) or a `LetterRefused` (audited and committed). On
    success the caller commits.

    The letter is bound to the first account that redeems it. That account may redeem it again
    only to replace an offer it could not collect (expired): a letter gives one credential.
    An account holds at most one letter per poll."""
    moment = now or utcnow()
    subject_ref = subject_keys.reference(session, account_id)
    letter_ref = subject_keys.reference(session, account_id, REFERENCE_PURPOSE)
    reservation = config.limiter.reserve(session, account_id, ip)  # or LoginThrottled
    session.commit()
    letter = find_letter(session, config, code)
    if letter is None:  # a wrong guess: the attempt stays counted
        raise _refuse(session, subject_ref, "unknown", UnknownLetterCode(), None)
    config.limiter.release(session, reservation)
    refused = unusable(letter, moment)
    if refused is not None:
        raise _refuse(session, subject_ref, refused[0], refused[1], letter.batch_id)
    if letter.redeemed_at is not None:
        return _redeem_again(
            session, config, subject_keys, letter, account_id, (subject_ref, letter_ref), moment
        )
    held = session.scalar(
        select(LetterCode.id).where(
            LetterCode.account_ref == letter_ref,
            LetterCode.poll_scope == letter.poll_scope,
        )
    )
    if held is not None:
        raise _refuse(session, subject_ref, "one_per_poll", OneLetterPerPoll(), letter.batch_id)
    try:
        with session.begin_nested():
            taken = session.execute(
                update(LetterCode)
                .where(
                    LetterCode.id == letter.id,
                    LetterCode.redeemed_at.is_(None),
                    LetterCode.revoked_at.is_(None),
                    LetterCode.expires_at > moment,
                )
                .values(account_ref=letter_ref, redeemed_at=moment)
            )
    except IntegrityError:  # another letter for this poll, redeemed concurrently
        raise _refuse(
            session, subject_ref, "one_per_poll", OneLetterPerPoll(), letter.batch_id
        ) from None
    if rowcount(taken) != 1:  # someone else got there first
        raise _refuse(session, subject_ref, "taken", LetterTaken(), letter.batch_id)
    return _offer(session, config, subject_keys, letter, account_id, subject_ref, moment)


def _redeem_again(
    session: Session,
    config: LettersConfig,
    subject_keys: SubjectKeys,
    letter: LetterCode,
    account_id: str,
    refs: tuple[str, str],
    moment: dt.datetime,
) -> RedeemedLetter:
    """The letter was redeemed before: by this account, whose offer could not be collected,
    it gives a new offer; otherwise it is spent."""
    subject_ref, letter_ref = refs
    if letter.account_ref != letter_ref:
        raise _refuse(session, subject_ref, "taken", LetterTaken(), letter.batch_id)
    if _spent(session, config, letter, moment):
        raise _refuse(session, subject_ref, "redeemed", LetterAlreadyYours(), letter.batch_id)
    previous = (
        LetterCode.offer_id == letter.offer_id
        if letter.offer_id is not None
        else LetterCode.offer_id.is_(None)
    )
    claimed = session.execute(
        update(LetterCode)
        .where(LetterCode.id == letter.id, LetterCode.account_ref == letter_ref)
        .where(previous)
        # not revoked meanwhile (an operator, or the erasure of the resident's postcode,
        # committing between the read above and this UPDATE): its row may be emptied
        .where(LetterCode.revoked_at.is_(None))
        .values(offer_id=None, redeemed_at=moment)
    )
    if rowcount(claimed) != 1:  # a concurrent redemption of this account replaced it
        raise _refuse(session, subject_ref, "taken", LetterTaken(), letter.batch_id)
    return _offer(session, config, subject_keys, letter, account_id, subject_ref, moment)


def _offer(
    session: Session,
    config: LettersConfig,
    subject_keys: SubjectKeys,
    letter: LetterCode,
    account_id: str,
    subject_ref: str,
    moment: dt.datetime,
) -> RedeemedLetter:
    batch = session.get(LetterBatch, letter.batch_id)
    assert batch is not None  # the foreign key
    if letter.address_ref is not None:
        # first: it takes the vouching graph lock, which is always taken before the audit
        # log's append lock (create_offer appends), never after it
        record_address_ref(
            session,
            subject_keys,
            account_id=account_id,
            address_ref=letter.address_ref,
            source="letter",
            actor="resident",
            now=moment,
        )
    claims: dict[str, object] = {
        "postcode": letter.postcode,
        "municipality": {"code": batch.municipality_code, "name": batch.municipality_name},
        "residence_source": "letter",
    }
    if letter.wijk_buurt is not None:
        claims["buurtcode"] = letter.wijk_buurt
    created = create_offer(
        session,
        subject_keys,
        config.attestations,
        account_id=account_id,
        type_id="postcode",
        claims=claims,
        actor="resident",
        now=moment,
        pseudonym_holder=letter_reference(letter.id),
    )
    session.execute(
        update(LetterCode).where(LetterCode.id == letter.id).values(offer_id=created.offer_id)
    )
    record(
        session,
        "letter.redeemed",
        "resident",
        subject_ref,
        {"letter": letter.id, "batch": letter.batch_id, "offer_id": created.offer_id},
    )
    return RedeemedLetter(created, letter.postcode_area)
