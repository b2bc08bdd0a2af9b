"""Letters at the domain level: what is stored, expiry and revocation, the binding to the first
account, the attempt limits, and the letter as the basis of poll pseudonyms."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm import Session

from attestations.issuance import claims_field
from attestations.letters.admin import letters_status, revoke_batch, revoke_code
from attestations.letters.codes import grouped, new_code
from attestations.letters.config import ATTEMPTS_PER_ACCOUNT, ATTEMPTS_PER_ADDRESS, LettersConfig
from attestations.letters.errors import (
    InvalidLetterBatch,
    LetterAlreadyYours,
    LetterExpired,
    LetterRevoked,
    LetterTaken,
    OneLetterPerPoll,
    UnknownLetterCode,
)
from attestations.letters.lookup import letter_reference
from attestations.letters.models import LetterBatch, LetterCode
from attestations.letters.service import GeneratedBatch, expiry_of, redeem_letter
from attestations.letters.votes import paper_vote
from attestations.models import CredentialOffer, IssuedCredential
from attestations.statuslist import StatusReference, record_issued
from attestations.verifier.pseudonym import OTHER_POLL, SEVERAL_LETTERS, pseudonym_claims
from audit.models import AuditEntry
from core.db import utcnow
from identity import LoginThrottled, poll_pseudonym
from keys import SubjectKeys
from service.settings import Settings
from tests.support.attestations import make_account
from tests.support.audit import discloses
from tests.support.letters import HOUSE_NUMBERS, config_of, make_batch

ISSUER = "http://testserver"
POLL = "buurtbudget-2027"
IP = "192.0.2.10"


@pytest.fixture
def config(settings: Settings) -> LettersConfig:
    return config_of(settings)


@pytest.fixture
def batch(session: Session, config: LettersConfig) -> GeneratedBatch:
    return make_batch(session, config)


def row_of(session: Session, config: LettersConfig, code: str) -> LetterCode:
    row = session.scalar(select(LetterCode).where(LetterCode.code_hash == config.hasher(code)))
    assert row is not None
    return row


def redeem(
    session: Session,
    config: LettersConfig,
    subject_keys: SubjectKeys,
    account: str,
    code: str,
    ip: str = IP,
    now: dt.datetime | None = None,
) -> str:
    redeemed = redeem_letter(
        session, config, subject_keys, account_id=account, code=code, ip=ip, now=now
    )
    session.commit()
    return redeemed.offer.offer_id


# --- generating ------------------------------------------------------------------------------


def test_only_keyed_hashes_postcodes_and_cbs_codes_are_stored(
    session: Session, config: LettersConfig, batch: GeneratedBatch
) -> None:
    columns = {c.key for c in inspect(LetterCode).columns}
    assert not {"code", "huisnummer", "toevoeging", "address", "street"} & columns
    rows = session.scalars(select(LetterCode).where(LetterCode.batch_id == batch.batch_id)).all()
    assert len(rows) == len(batch.letters) == 3
    stored = " ".join(str(getattr(r, c)) for r in rows for c in columns)
    for letter in batch.letters:
        assert letter.code not in stored and grouped(letter.code) not in stored
        assert row_of(session, config, letter.code).postcode == letter.address.postcode
    assert sorted((r.postcode_area, r.wijk_buurt or "") for r in rows) == [
        ("1011", "WK036300"),
        ("1087", ""),
        ("1087", "BU03630001"),
    ]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.event == "letters.generated"))
    [entry] = [e.entry for e in entries if batch.batch_id in e.entry]
    for value in ("1087", "1011", *HOUSE_NUMBERS, *(letter.code for letter in batch.letters)):
        assert not discloses(json.loads(entry)["details"], value)


def test_per_address_gives_each_address_that_many_letters(
    session: Session, config: LettersConfig
) -> None:
    batch = make_batch(session, config, per_address=2)
    assert [letter.address.line for letter in batch.letters] == [2, 2, 3, 3, 4, 4]
    assert len({letter.code for letter in batch.letters}) == 6


def test_a_letter_is_valid_through_its_last_day_in_amsterdam_and_up_to_a_year() -> None:
    now = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
    # the night after 31 March, midnight summer time (UTC+2)
    assert expiry_of(dt.date(2027, 3, 31), now) == dt.datetime(2027, 3, 31, 22, 0, tzinfo=dt.UTC)
    assert expiry_of(dt.date(2028, 3, 1), now)  # a year ahead is allowed
    for refused in (dt.date(2027, 2, 28), dt.date(2028, 3, 3)):
        with pytest.raises(InvalidLetterBatch):
            expiry_of(refused, now)


# --- redeeming ------------------------------------------------------------------------------


def test_redeeming_offers_a_postcode_credential_from_the_letter_that_votes_as_the_letter(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    account = make_account(session, subject_keys)
    letter = batch.letters[0]
    offer_id = redeem(session, config, subject_keys, account, grouped(letter.code).lower())

    offer = session.get(CredentialOffer, offer_id)
    assert offer is not None and offer.account_id == account
    claims = json.loads(
        subject_keys.decrypt(session, account, claims_field(offer_id), offer.claims_enc)
    )
    assert claims == {
        "postcode": "1087AB",
        "postcode_area": "1087",
        "municipality": {"code": "GM0363", "name": "Amsterdam"},
        "residence_source": "letter",
        "wijkcode": "WK036300",
        "buurtcode": "BU03630001",
    }
    row = row_of(session, config, letter.code)
    assert offer.pseudonym_holder == letter_reference(row.id)
    assert row.redeemed_at is not None and row.offer_id == offer_id
    # the account is named by an opaque reference, not by its id
    assert row.account_ref is not None and account not in row.account_ref


def test_a_letter_is_bound_to_the_first_account(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    first, second = make_account(session, subject_keys), make_account(session, subject_keys)
    code = batch.letters[0].code
    redeem(session, config, subject_keys, first, code)
    with pytest.raises(LetterTaken):
        redeem(session, config, subject_keys, second, code)
    # the first account cannot get a second proof while the first offer can be collected
    with pytest.raises(LetterAlreadyYours):
        redeem(session, config, subject_keys, first, code)


def test_the_first_account_gets_a_new_offer_only_when_it_could_not_collect_the_first(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    account = make_account(session, subject_keys)
    code = batch.letters[0].code
    first = redeem(session, config, subject_keys, account, code)
    expired = session.get(CredentialOffer, first)
    assert expired is not None
    later = expired.expires_at + dt.timedelta(seconds=1)

    second = redeem(session, config, subject_keys, account, code, now=later)
    assert second != first and row_of(session, config, code).offer_id == second

    # once collected, the letter is spent, also for its own account
    session.execute(
        update(CredentialOffer).where(CredentialOffer.id == second).values(used_at=later)
    )
    session.commit()
    with pytest.raises(LetterAlreadyYours):
        redeem(session, config, subject_keys, account, code, now=later + dt.timedelta(hours=1))
    # and stays spent when its credential was issued and the offer purged (a day later)
    holder = letter_reference(row_of(session, config, code).id)
    _issued(session, config, account, holder)
    session.execute(delete(CredentialOffer).where(CredentialOffer.id == second))
    session.commit()
    with pytest.raises(LetterAlreadyYours):
        redeem(session, config, subject_keys, account, code, now=later + dt.timedelta(days=2))


def test_an_account_uses_one_letter_per_poll(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    account = make_account(session, subject_keys)
    redeem(session, config, subject_keys, account, batch.letters[0].code)
    with pytest.raises(OneLetterPerPoll):
        redeem(session, config, subject_keys, account, batch.letters[1].code)
    other_poll = make_batch(session, config, poll_id="speeltuin-2027")
    redeem(session, config, subject_keys, account, other_poll.letters[1].code)


def test_expired_and_revoked_codes_are_refused(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    account = make_account(session, subject_keys)
    expired_code, revoked_code = batch.letters[0].code, batch.letters[1].code
    with pytest.raises(LetterExpired):
        redeem(session, config, subject_keys, account, expired_code, now=batch.expires_at)
    revoke_code(session, config, revoked_code, "operator:cli")
    session.commit()
    with pytest.raises(LetterRevoked):
        redeem(session, config, subject_keys, account, revoked_code)
    refusals = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "letter.redeem_refused")
    ).all()
    reasons = [json.loads(e)["details"]["reason"] for e in refusals]
    assert reasons[-2:] == ["expired", "revoked"]


# --- attempt limits --------------------------------------------------------------------------


def test_wrong_codes_are_limited_per_account_and_a_right_code_does_not_count(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    account = make_account(session, subject_keys)
    for _ in range(ATTEMPTS_PER_ACCOUNT - 1):
        with pytest.raises(UnknownLetterCode):
            redeem(session, config, subject_keys, account, new_code())
    redeem(session, config, subject_keys, account, batch.letters[0].code)  # given back
    with pytest.raises(UnknownLetterCode):
        redeem(session, config, subject_keys, account, new_code())
    with pytest.raises(LoginThrottled) as caught:  # now even the right code waits
        redeem(session, config, subject_keys, account, batch.letters[2].code)
    assert caught.value.retry_after > 0
    assert row_of(session, config, batch.letters[2].code).redeemed_at is None
    # another account from another address is not held up
    other = make_account(session, subject_keys)
    redeem(session, config, subject_keys, other, batch.letters[2].code, ip="198.51.100.7")


def test_wrong_codes_are_limited_per_client_address_across_accounts(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    per_account = ATTEMPTS_PER_ACCOUNT
    accounts = [
        make_account(session, subject_keys) for _ in range(ATTEMPTS_PER_ADDRESS // per_account)
    ]
    for account in accounts:
        for _ in range(per_account):
            with pytest.raises(UnknownLetterCode):
                redeem(session, config, subject_keys, account, new_code())
    fresh = make_account(session, subject_keys)
    with pytest.raises(LoginThrottled):
        redeem(session, config, subject_keys, fresh, batch.letters[0].code)
    redeem(session, config, subject_keys, fresh, batch.letters[0].code, ip="198.51.100.7")


# --- one letter, one vote ----------------------------------------------------------------------


def _issued(
    session: Session, config: LettersConfig, account: str, holder: str | None
) -> tuple[str, StatusReference]:
    now = utcnow()
    row = record_issued(
        session,
        config.attestations,
        account_id=account,
        type_id="postcode",
        issued_at=now,
        expires_at=now + dt.timedelta(days=1),
        pseudonym_holder=holder,
    )
    return ISSUER, StatusReference(
        config.attestations.status_uri(row.status_list_id), row.status_idx
    )


def test_a_credential_from_a_letter_votes_as_the_letter_and_paper_votes_agree(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    account = make_account(session, subject_keys)
    letter = batch.letters[0]
    holder = letter_reference(row_of(session, config, letter.code).id)
    from_letter = _issued(session, config, account, holder)
    from_registry = _issued(session, config, account, None)
    key, sector = config.pseudonym_key, "buurt.example.nl"

    def pseudonym(*presented: tuple[str, StatusReference]) -> dict[str, str]:
        return pseudonym_claims(session, key, ISSUER, sector, POLL, presented)

    by_letter = pseudonym(from_letter)
    assert by_letter == {"poll_pseudonym": poll_pseudonym(key, sector, POLL, holder)}
    assert pseudonym(from_registry) != by_letter  # the account's own basis
    assert pseudonym(from_registry, from_letter) == by_letter  # with the letter: the letter
    paper = paper_vote(
        session, config, client_id="c1", sector=sector, code=letter.code, poll_id=POLL
    )
    assert paper["poll_pseudonym"] == by_letter["poll_pseudonym"]
    # a letter for this poll votes in no other (as on paper), and is unlinkable across platforms
    other_poll = pseudonym_claims(session, key, ISSUER, sector, "speeltuin", [from_letter])
    assert other_poll == {"poll_pseudonym_unavailable": OTHER_POLL}
    other_sector = pseudonym_claims(session, key, ISSUER, "x.example", POLL, [from_letter])
    assert other_sector["poll_pseudonym"] != by_letter["poll_pseudonym"]
    second_letter = _issued(
        session,
        config,
        account,
        letter_reference(row_of(session, config, batch.letters[1].code).id),
    )
    assert pseudonym(from_letter, second_letter) == {"poll_pseudonym_unavailable": SEVERAL_LETTERS}


# --- paper votes -----------------------------------------------------------------------------


def test_a_paper_vote_is_answered_once_per_code_platform_and_poll(
    session: Session, config: LettersConfig, batch: GeneratedBatch
) -> None:
    from attestations.letters.errors import AlreadyVoted, LetterForAnotherPoll

    code = grouped(batch.letters[0].code, "-")
    first = paper_vote(session, config, client_id="c1", sector="a.example", code=code, poll_id=POLL)
    assert set(first) == {"postcode_area", "municipality", "poll_id", "poll_pseudonym"}
    assert first["postcode_area"] == "1087"
    assert first["municipality"] == {"code": "GM0363", "name": "Amsterdam"}
    with pytest.raises(AlreadyVoted):
        paper_vote(session, config, client_id="c2", sector="a.example", code=code, poll_id=POLL)
    other = paper_vote(
        session,
        config,
        client_id="c3",
        sector="b.example",
        code=code,
        poll_id=POLL,
        claims=["wijkcode", "buurtcode"],
    )
    assert (other["wijkcode"], other["buurtcode"]) == ("WK036300", "BU03630001")
    assert "postcode_area" not in other and other["poll_pseudonym"] != first["poll_pseudonym"]
    with pytest.raises(LetterForAnotherPoll):
        paper_vote(session, config, client_id="c1", sector="a.example", code=code, poll_id="x")


def test_a_letter_without_a_poll_votes_once_in_each_poll(
    session: Session, config: LettersConfig
) -> None:
    batch = make_batch(session, config, poll_id=None)
    code = batch.letters[2].code
    a = paper_vote(session, config, client_id="c", sector="s", code=code, poll_id="p1")
    b = paper_vote(session, config, client_id="c", sector="s", code=code, poll_id="p2")
    assert a["poll_pseudonym"] != b["poll_pseudonym"]
    assert "wijkcode" not in a  # not asked for
    entries = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "letter.paper_voted")
    ).all()
    row = row_of(session, config, code)
    assert all(row.id not in e and code not in e for e in entries)  # a vote names no letter


# --- status and revocation -----------------------------------------------------------------


def test_status_counts_per_postcode_area_and_revoking_a_batch_revokes_its_credentials(
    session: Session, subject_keys: SubjectKeys, config: LettersConfig, batch: GeneratedBatch
) -> None:
    account = make_account(session, subject_keys)
    redeem(session, config, subject_keys, account, batch.letters[0].code)
    paper_vote(session, config, client_id="c", sector="s", code=batch.letters[1].code, poll_id=POLL)
    holder = letter_reference(row_of(session, config, batch.letters[0].code).id)
    _issued(session, config, account, holder)

    areas = {a["postcode_area"]: a for a in letters_status(session)["areas"]}
    assert areas["1087"]["issued"] >= 2 and areas["1087"]["redeemed"] >= 1
    assert areas["1087"]["voted_on_paper"] >= 1
    assert "huisnummer" not in json.dumps(letters_status(session))

    outcome = revoke_batch(session, batch.batch_id, "operator:cli")
    assert (outcome.letters, outcome.credentials) == (3, 1)
    assert session.scalar(
        select(IssuedCredential.revoked_at).where(IssuedCredential.pseudonym_holder == holder)
    )
    assert session.get(LetterBatch, batch.batch_id).revoked_at is not None  # type: ignore[union-attr]
    assert revoke_batch(session, batch.batch_id, "operator:cli").letters == 0  # idempotent
