from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database, utcnow
from identity.accounts import tokens
from identity.accounts.errors import InvalidToken
from identity.accounts.models import Account, AccountStatus, AccountToken, TokenPurpose
from identity.accounts.service import Accounts, create_account
from service.runtime import Runtime
from tests.support.accounts import fast_accounts
from tests.support.concurrency import race

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def accounts(runtime: Runtime) -> Accounts:
    return fast_accounts(runtime.accounts)


@pytest.fixture
def account_id(accounts: Accounts, session: Session) -> str:
    account = create_account(
        accounts,
        session,
        email=None,
        name="Test",
        password_hash=None,
        status=AccountStatus.ACTIVE,
        email_verified=False,
    )
    return account.id


def test_token_is_random_stored_hashed_and_single_use(session: Session, account_id: str) -> None:
    raw = tokens.issue(session, account_id, TokenPurpose.PASSWORD_RESET, HOUR)
    assert len(raw) >= 43  # secrets.token_urlsafe(32)
    stored = session.scalars(select(AccountToken.token_hash)).all()
    assert raw not in stored and tokens.token_hash(raw) in stored
    assert tokens.peek(session, TokenPurpose.PASSWORD_RESET, raw) == account_id
    assert tokens.consume(session, TokenPurpose.PASSWORD_RESET, raw) == account_id
    assert tokens.peek(session, TokenPurpose.PASSWORD_RESET, raw) is None
    with pytest.raises(InvalidToken):
        tokens.consume(session, TokenPurpose.PASSWORD_RESET, raw)


def test_token_of_one_purpose_does_not_work_for_another(session: Session, account_id: str) -> None:
    raw = tokens.issue(session, account_id, TokenPurpose.VERIFY_EMAIL, HOUR)
    with pytest.raises(InvalidToken):
        tokens.consume(session, TokenPurpose.PASSWORD_RESET, raw)
    assert tokens.consume(session, TokenPurpose.VERIFY_EMAIL, raw) == account_id


def test_expired_token_is_refused(session: Session, account_id: str) -> None:
    raw = tokens.issue(session, account_id, TokenPurpose.PASSWORD_RESET, HOUR)
    with time_machine.travel(utcnow() + HOUR + dt.timedelta(seconds=1)):
        assert tokens.peek(session, TokenPurpose.PASSWORD_RESET, raw) is None
        with pytest.raises(InvalidToken):
            tokens.consume(session, TokenPurpose.PASSWORD_RESET, raw)


def test_a_new_token_voids_the_previous_one(session: Session, account_id: str) -> None:
    first = tokens.issue(session, account_id, TokenPurpose.PASSWORD_RESET, HOUR)
    second = tokens.issue(session, account_id, TokenPurpose.PASSWORD_RESET, HOUR)
    with pytest.raises(InvalidToken):
        tokens.consume(session, TokenPurpose.PASSWORD_RESET, first)
    assert tokens.consume(session, TokenPurpose.PASSWORD_RESET, second) == account_id


@pytest.mark.parametrize("raw", ["", "x" * 300, "unknown-token"])
def test_unknown_empty_or_oversized_tokens_are_refused(session: Session, raw: str) -> None:
    assert tokens.peek(session, TokenPurpose.VERIFY_EMAIL, raw) is None
    with pytest.raises(InvalidToken):
        tokens.consume(session, TokenPurpose.VERIFY_EMAIL, raw)


def test_activation_codes_are_readable_and_forgiving_to_type(
    session: Session, account_id: str
) -> None:
    codes = {tokens.new_activation_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        plain = code.replace("-", "")
        assert len(plain) >= 10
        assert not set(plain) & set("01OIL")
        assert set(plain) <= set(tokens.CODE_ALPHABET)
    code = tokens.issue(
        session, account_id, TokenPurpose.ACTIVATION, HOUR, raw=tokens.new_activation_code()
    )
    typed = " " + code.replace("-", " ").lower() + " "
    assert tokens.consume(session, TokenPurpose.ACTIVATION, typed) == account_id
    with pytest.raises(InvalidToken):
        tokens.consume(session, TokenPurpose.ACTIVATION, code)


def test_concurrent_consumers_of_one_token_cannot_both_succeed(fresh_database: str) -> None:
    """Committed data and one connection per thread: the conditional UPDATE decides."""
    database = Database.from_url(fresh_database)
    rounds = 5
    try:
        raws = []
        with database.transaction() as session:
            account_id = uuid.uuid4().hex
            session.add(
                Account(
                    id=account_id,
                    handle="bewoner-test22",
                    email_verified=False,
                    status=AccountStatus.ACTIVE.value,
                    created_at=utcnow(),
                )
            )
            session.flush()
            for _ in range(rounds):
                raw = tokens.new_activation_code()
                # distinct purposes' voiding does not matter: store each as its own row
                session.add(
                    AccountToken(
                        token_hash=tokens.token_hash(raw),
                        purpose=TokenPurpose.PASSWORD_RESET.value,
                        account_id=account_id,
                        created_at=utcnow(),
                        expires_at=utcnow() + HOUR,
                    )
                )
                raws.append(raw)

        for raw in raws:
            assert sorted(race_to_consume(database, raw)) == ["refused", "used"]
    finally:
        database.dispose()


def race_to_consume(database: Database, raw: str) -> list[str]:
    def consume() -> str:
        try:
            with database.transaction() as session:
                tokens.consume(session, TokenPurpose.PASSWORD_RESET, raw)
            return "used"
        except InvalidToken:
            return "refused"

    outcomes, errors = race(consume, 2)
    assert errors == []
    return outcomes
