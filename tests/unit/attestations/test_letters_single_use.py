"""A letter code is single-use under concurrent redemptions and paper votes (committed data,
one connection per thread; run on PostgreSQL with KLUIS_TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from attestations.letters.config import LettersConfig
from attestations.letters.errors import AlreadyVoted, LetterTaken
from attestations.letters.models import LetterCode, LetterVote
from attestations.letters.service import redeem_letter
from attestations.letters.votes import paper_vote
from attestations.models import CredentialOffer
from core.db import Database
from keys import SubjectKeys
from tests.conftest import make_settings
from tests.support.attestations import make_account
from tests.support.concurrency import race
from tests.support.letters import config_of, make_batch

REDEEMERS = 50
VOTERS = 20


@pytest.fixture
def database(fresh_database: str) -> Iterator[Database]:
    db = Database.from_url(fresh_database, pool_size=10, max_overflow=REDEEMERS)
    yield db
    db.dispose()


@pytest.fixture
def config(tmp_path: Path, fresh_database: str) -> LettersConfig:
    return config_of(make_settings(tmp_path / "data", fresh_database))


def test_fifty_concurrent_redemptions_of_one_code_succeed_once(
    database: Database, subject_keys: SubjectKeys, config: LettersConfig
) -> None:
    with database.transaction() as session:
        batch = make_batch(session, config, commit=False)
        accounts = [make_account(session, subject_keys) for _ in range(REDEEMERS)]
    code = batch.letters[0].code
    numbers = itertools.count()

    def redeem() -> str:
        n = next(numbers)  # each thread its own account and client address
        with database.session() as session:
            redeemed = redeem_letter(
                session,
                config,
                subject_keys,
                account_id=accounts[n],
                code=code,
                ip=f"192.0.2.{n}",
            )
            session.commit()
            return redeemed.offer.offer_id

    results, errors = race(redeem, REDEEMERS)
    assert len(results) == 1, errors
    assert len(errors) == REDEEMERS - 1 and all(isinstance(e, LetterTaken) for e in errors), {
        type(e).__name__ for e in errors
    }
    with database.transaction() as session:
        row = session.scalar(select(LetterCode).where(LetterCode.code_hash == config.hasher(code)))
        assert row is not None and row.offer_id == results[0]
        offers = session.scalar(select(func.count()).select_from(CredentialOffer))
        assert offers == 1


def test_concurrent_paper_votes_with_one_code_in_one_poll_are_answered_once(
    database: Database, config: LettersConfig
) -> None:
    with database.transaction() as session:
        batch = make_batch(session, config, commit=False)
    code = batch.letters[1].code

    def vote() -> object:
        with database.session() as session:
            body = paper_vote(
                session,
                config,
                client_id="c1",
                sector="buurt.example.nl",
                code=code,
                poll_id="buurtbudget-2027",
            )
            session.commit()
            return body

    results, errors = race(vote, VOTERS)
    assert len(results) == 1, errors
    assert all(isinstance(e, AlreadyVoted) for e in errors), errors
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(LetterVote)) == 1
