from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import attempt_limiter
from core.db import Database, utcnow
from identity.accounts.errors import LoginThrottled
from identity.accounts.models import LoginFailure
from identity.accounts.ratelimit import LoginLimiter, LoginLimits

WINDOW = dt.timedelta(minutes=15)
EMAIL = "jan@example.org"
IP = "198.51.100.7"


@pytest.fixture
def limiter() -> LoginLimiter:
    return LoginLimiter(b"k" * 32, LoginLimits(per_account=3, per_ip=5, window=WINDOW))


def fail(
    limiter: LoginLimiter, session: Session, times: int, who: str = EMAIL, ip: str = IP
) -> None:
    for _ in range(times):
        limiter.reserve(session, who, ip)  # raises LoginThrottled at a limit


def test_account_is_throttled_after_the_limit_until_the_window_passes(
    limiter: LoginLimiter, session: Session
) -> None:
    fail(limiter, session, 2)
    assert limiter.retry_after(session, EMAIL, IP) is None
    fail(limiter, session, 1)
    wait = limiter.retry_after(session, EMAIL, IP)
    assert wait is not None and 0 < wait <= WINDOW.total_seconds()
    # the account limit holds from any other address too
    assert limiter.retry_after(session, EMAIL, "203.0.113.9") is not None
    # another account from the same address is not affected (IP limit not reached)
    assert limiter.retry_after(session, "piet@example.org", IP) is None
    with time_machine.travel(utcnow() + WINDOW + dt.timedelta(seconds=1)):
        assert limiter.retry_after(session, EMAIL, IP) is None


def test_address_is_throttled_across_accounts(limiter: LoginLimiter, session: Session) -> None:
    for n in range(5):
        fail(limiter, session, 1, who=f"user{n}@example.org")
    assert limiter.retry_after(session, "fresh@example.org", IP) is not None
    assert limiter.retry_after(session, "fresh@example.org", "203.0.113.9") is None


def test_retry_after_counts_from_the_failure_that_must_age_out(
    limiter: LoginLimiter, session: Session
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        fail(limiter, session, 1)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        fail(limiter, session, 2)
        # the oldest of the last three frees the account five minutes from now
        assert limiter.retry_after(session, EMAIL, IP) == 300


def test_success_clears_the_account_but_not_the_address(
    limiter: LoginLimiter, session: Session
) -> None:
    for n in range(4):
        fail(limiter, session, 1, who=f"user{n}@example.org")
    fail(limiter, session, 1)  # the fifth failure from this IP
    limiter.clear_account(session, EMAIL)
    assert limiter.retry_after(session, EMAIL, "203.0.113.9") is None
    assert limiter.retry_after(session, EMAIL, IP) is not None


def test_state_is_keyed_hashes_only_and_old_rows_are_pruned(
    limiter: LoginLimiter, session: Session
) -> None:
    fail(limiter, session, 2)
    keys = session.scalars(select(LoginFailure.key_hash)).all()
    assert keys and all(EMAIL not in k and IP not in k and len(k) == 64 for k in keys)
    with time_machine.travel(utcnow() + WINDOW + dt.timedelta(seconds=1)):
        fail(limiter, session, 1, who="other@example.org", ip="203.0.113.9")
        assert len(session.scalars(select(LoginFailure)).all()) == 2


def test_limits_are_shared_between_processes(limiter: LoginLimiter, fresh_database: str) -> None:
    first, second = Database.from_url(fresh_database), Database.from_url(fresh_database)
    try:
        with first.transaction() as session:
            fail(limiter, session, 3)
        with second.transaction() as session:
            assert limiter.retry_after(session, EMAIL, IP) is not None
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.parametrize(
    ("purpose", "name"),
    [
        ("kluis/letters/attempt-throttle", "letters"),
        ("kluis/vouching/attempt-throttle", "vouching"),
    ],
)
def test_a_throttled_code_guess_is_logged_as_its_own_limit_without_personal_data(
    session: Session, caplog: pytest.LogCaptureFixture, purpose: str, name: str
) -> None:
    settings = SimpleNamespace(secret_bytes=b"s" * 32, login_failure_window=900)
    codes = attempt_limiter(settings, purpose, per_account=2, per_ip=30)
    fail(codes, session, 2)
    with caplog.at_level(logging.WARNING, logger="kluis.accounts"), pytest.raises(LoginThrottled):
        fail(codes, session, 1)

    (throttled,) = [r for r in caplog.records if "throttled" in r.getMessage()]
    assert throttled.getMessage() == f"{name} attempts throttled (per_account limit)"
    assert (throttled.what, throttled.limit) == (name, "per_account")  # type: ignore[attr-defined]
    assert "login" not in throttled.getMessage()
    text = f"{throttled.getMessage()} {throttled.__dict__}"
    assert EMAIL not in text and IP not in text


def test_a_throttled_login_names_the_address_limit_when_the_address_is_at_it(
    limiter: LoginLimiter, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(5):
        fail(limiter, session, 1, who=f"user{n}@example.org")
    with caplog.at_level(logging.WARNING, logger="kluis.accounts"), pytest.raises(LoginThrottled):
        fail(limiter, session, 1, who="fresh@example.org")

    (throttled,) = [r for r in caplog.records if "throttled" in r.getMessage()]
    assert throttled.getMessage() == "login attempts throttled (per_ip limit)"
    assert IP not in f"{throttled.__dict__}" and "fresh@" not in f"{throttled.__dict__}"


def test_a_released_attempt_stays_released_when_the_caller_rolls_back_afterwards(
    limiter: LoginLimiter, session: Session
) -> None:
    """A right password gives its attempt back at once: a form error that rolls back the
    caller's work afterwards must not bring the counted failure back."""
    reservation = limiter.reserve(session, EMAIL, IP)
    session.commit()
    limiter.release(session, reservation)
    session.rollback()
    assert session.scalars(select(LoginFailure)).all() == []
