"""Login, throttling, CSRF, redirects and logout, driven through the pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from core.db import Database, utcnow
from identity.accounts.models import Account, AccountStatus, BrowserSessionRecord, LoginFailure
from identity.accounts.service import Accounts, create_account
from identity.accounts.sessions import SESSION_COOKIE, find_browser_session
from service.app import create_app_from_runtime
from service.runtime import build_runtime
from service.settings import Settings
from tests.conftest import make_settings
from tests.support.accounts import (
    STRONG_PASSWORD,
    csrf_token,
    install_fast_accounts,
    log_in,
    post_form,
)

EMAIL = "jan.jansen@example.org"
WRONG = "dit is niet het wachtwoord"


@pytest.fixture
def accounts(app: FastAPI) -> Accounts:
    return install_fast_accounts(app)


@pytest.fixture
def resident(accounts: Accounts, session: Session) -> Account:
    account = create_account(
        accounts,
        session,
        email=EMAIL,
        name=None,
        password_hash=accounts.passwords.hash(STRONG_PASSWORD),
        status=AccountStatus.ACTIVE,
        email_verified=True,
    )
    session.commit()
    return account


def failures(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LoginFailure)) or 0


def test_wrong_password_and_unknown_account_get_identical_answers(
    client: TestClient, resident: Account, session: Session
) -> None:
    wrong = log_in(client, EMAIL, WRONG)
    unknown = log_in(client, "niemand@example.org", WRONG)
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.text.replace(EMAIL, "X") == unknown.text.replace("niemand@example.org", "X")
    varying = {"x-request-id", "content-length"}  # the typed address is echoed back
    headers = {k: v for k, v in wrong.headers.items() if k not in varying}
    assert headers == {k: v for k, v in unknown.headers.items() if k not in varying}
    assert "set-cookie" not in wrong.headers
    assert SESSION_COOKIE not in client.cookies


def test_unknown_accounts_cost_one_password_check_like_known_ones(
    client: TestClient, resident: Account, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    original = accounts.passwords._verify

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return original(stored, password)

    monkeypatch.setattr(accounts.passwords, "_verify", spy)
    log_in(client, EMAIL, WRONG)
    log_in(client, "niemand@example.org", WRONG)
    log_in(client, resident.handle, WRONG)
    assert len(checked) == 3
    assert all(stored.startswith("$argon2id$") for stored in checked)


def test_failed_logins_are_audited_without_naming_unknown_accounts(
    client: TestClient, resident: Account, accounts: Accounts, session: Session
) -> None:
    log_in(client, EMAIL, WRONG)
    log_in(client, "niemand@example.org", WRONG)
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "login.failed").order_by(AuditEntry.idx)
    ).all()
    subjects = [row.subject_ref for row in rows]
    assert subjects == [accounts.subject_ref(session, resident.id), None]
    assert [json.loads(row.entry)["details"]["reason"] for row in rows] == [
        "wrong_password",
        "unknown_account",
    ]


def test_login_works_with_the_generated_username_too(client: TestClient, resident: Account) -> None:
    response = log_in(client, resident.handle.upper())
    assert response.status_code == 303


def test_login_ends_the_browsers_previous_session(
    client: TestClient, resident: Account, session: Session
) -> None:
    log_in(client, EMAIL)
    first = client.cookies[SESSION_COOKIE]
    log_in(client, EMAIL)
    second = client.cookies[SESSION_COOKIE]
    assert first != second
    assert find_browser_session(session, first) is None
    assert find_browser_session(session, second) is not None


def test_session_ids_are_stored_only_hashed_and_expire(
    client: TestClient, resident: Account, session: Session, settings: Settings
) -> None:
    log_in(client, EMAIL)
    sid = client.cookies[SESSION_COOKIE]
    row = session.scalars(select(BrowserSessionRecord)).one()
    assert sid not in row.id_hash and len(row.id_hash) == 64
    assert row.amr == ["pwd"] and row.ended_at is None
    later = utcnow() + dt.timedelta(seconds=settings.session_ttl + 1)
    with time_machine.travel(later):
        assert find_browser_session(session, sid) is None


def test_disabled_accounts_cannot_log_in_and_lose_their_sessions(
    client: TestClient, resident: Account, session: Session
) -> None:
    log_in(client, EMAIL)
    sid = client.cookies[SESSION_COOKIE]
    resident.status = AccountStatus.DISABLED.value
    session.commit()
    assert find_browser_session(session, sid) is None
    assert log_in(client, EMAIL).status_code == 400


def test_logout_local_ends_the_session_and_clears_the_cookie(
    client: TestClient, resident: Account, session: Session
) -> None:
    log_in(client, EMAIL)
    sid = client.cookies[SESSION_COOKIE]
    response = post_form(client, "/logout-local", {}, csrf_from="/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?status=logged_out"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert find_browser_session(session, sid) is None
    assert "Je bent uitgelogd" in client.get(response.headers["location"]).text
    assert session.scalar(select(AuditEntry).where(AuditEntry.event == "session.ended"))


# --- throttling ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", [EMAIL, "niemand@example.org"])
def test_repeated_failures_for_one_account_get_429_with_retry_after(
    app: FastAPI, resident: Account, settings: Settings, who: str
) -> None:
    with TestClient(app, client=("198.51.100.1", 1000)) as attacker:
        for _ in range(settings.login_max_failures):
            assert log_in(attacker, who, WRONG).status_code == 400
        blocked = log_in(attacker, who, STRONG_PASSWORD)
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= settings.login_failure_window
    assert "Probeer het over" in blocked.text and "minuten opnieuw" in blocked.text
    # the account is throttled from every address, the attacker's address for nobody else
    with TestClient(app, client=("203.0.113.2", 2000)) as elsewhere:
        assert log_in(elsewhere, who, STRONG_PASSWORD).status_code == 429
    with TestClient(app, client=("198.51.100.1", 1001)) as same_ip:
        other = log_in(same_ip, "iemand.anders@example.org", WRONG)
        assert other.status_code == 400


def test_throttled_account_may_try_again_after_the_window(
    app: FastAPI, resident: Account, settings: Settings
) -> None:
    with TestClient(app) as browser:
        for _ in range(settings.login_max_failures):
            log_in(browser, EMAIL, WRONG)
        assert log_in(browser, EMAIL).status_code == 429
        later = utcnow() + dt.timedelta(seconds=settings.login_failure_window + 1)
        with time_machine.travel(later):
            assert log_in(browser, EMAIL).status_code == 303


def test_many_failures_from_one_address_get_429_for_every_account(
    app: FastAPI, resident: Account, settings: Settings
) -> None:
    with TestClient(app, client=("198.51.100.9", 1000)) as sprayer:
        for n in range(settings.login_max_failures_per_ip):
            assert log_in(sprayer, f"gok{n}@example.org", WRONG).status_code == 400
        blocked = log_in(sprayer, EMAIL, STRONG_PASSWORD)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    with TestClient(app, client=("203.0.113.3", 1000)) as resident_browser:
        assert log_in(resident_browser, EMAIL).status_code == 303


def test_throttle_is_shared_by_every_app_process(
    runtime_app_pair: tuple[FastAPI, FastAPI], resident: Account, settings: Settings
) -> None:
    first, second = runtime_app_pair
    with TestClient(first) as one, TestClient(second) as two:
        for _ in range(settings.login_max_failures):
            log_in(one, EMAIL, WRONG)
        assert log_in(two, EMAIL).status_code == 429


@pytest.fixture
def runtime_app_pair(
    app: FastAPI, accounts: Accounts, settings: Settings, db: Database
) -> tuple[FastAPI, FastAPI]:
    other = create_app_from_runtime(build_runtime(settings, db))
    install_fast_accounts(other)
    return app, other


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "0" * 64])
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"email": EMAIL, "password": STRONG_PASSWORD}),
        ("/register", {"email": "nieuw@example.org", "password": STRONG_PASSWORD}),
        ("/password/forgot", {"email": EMAIL}),
        ("/password/reset", {"token": "x", "password": STRONG_PASSWORD}),
        ("/activate", {"code": "ABCD-EFGH-JKMN", "password": STRONG_PASSWORD}),
        ("/logout-local", {}),
    ],
)
def test_forms_without_a_valid_csrf_token_are_refused_and_change_nothing(
    client: TestClient,
    resident: Account,
    session: Session,
    settings: Settings,
    path: str,
    data: dict[str, str],
    token: str | None,
) -> None:
    csrf_token(client)  # the browser has a CSRF cookie; the form lacks the matching token
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    form = dict(data) if token is None else {**data, "csrf_token": token}
    response = client.post(path, data=form, follow_redirects=False, headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert (
        "set-cookie" not in response.headers or SESSION_COOKIE not in response.headers["set-cookie"]
    )
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert session.scalar(select(func.count()).select_from(Account)) == 1
    assert failures(session) == 0
    outbox_dir = settings.mail_outbox_dir
    assert outbox_dir is None or not list(Path(outbox_dir).glob("*.eml"))


def test_csrf_token_of_another_browser_is_refused(
    app: FastAPI, client: TestClient, resident: Account
) -> None:
    stolen = csrf_token(client)
    with TestClient(app) as victim:
        victim.get("/login")  # has its own CSRF cookie
        response = victim.post(
            "/login",
            data={"email": EMAIL, "password": STRONG_PASSWORD, "csrf_token": stolen},
            follow_redirects=False,
        )
    assert response.status_code == 403


# --- redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "return_to",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_return_to_outside_this_site_lands_on_the_account_page(
    client: TestClient, resident: Account, return_to: str
) -> None:
    page = client.get("/login", params={"return_to": return_to}).text
    assert 'name="return_to" value="/account"' in page
    response = log_in(client, EMAIL, return_to=return_to)
    assert response.status_code == 303 and response.headers["location"] == "/account"


def test_login_page_keeps_return_to_and_prefills_login_hint(client: TestClient) -> None:
    target = "/authorize/continue/p1?x=1"
    page = client.get("/login", params={"return_to": target, "login_hint": "jan@example.org"})
    assert page.status_code == 200
    assert 'name="return_to" value="/authorize/continue/p1?x=1"' in page.text
    assert 'value="jan@example.org"' in page.text
    hostile = client.get("/login", params={"login_hint": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in hostile


# --- page quality -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "autocompletes"),
    [
        ("/login", {"email", "current-password"}),
        ("/register", {"email", "new-password", "name"}),
        ("/password/forgot", {"email"}),
        ("/activate", {"one-time-code", "email", "new-password"}),
    ],
)
def test_forms_are_accessible_and_carry_a_csrf_token(
    client: TestClient, path: str, autocompletes: set[str]
) -> None:
    import re

    html = client.get(path).text
    assert 'name="csrf_token"' in html
    assert "<script" not in html
    inputs = re.findall(r"<input ([^>]+)>", html)
    visible = [i for i in inputs if 'type="hidden"' not in i]
    assert visible
    for attributes in visible:
        field_id = re.search(r'id="([^"]+)"', attributes)
        assert field_id, attributes
        assert f'<label for="{field_id.group(1)}">' in html
    found = set(re.findall(r'autocomplete="([^"]+)"', html))
    assert autocompletes <= found


def test_pages_speak_english_on_request(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "en"})
    assert page.headers["content-language"] == "en"
    assert "Log in" in page.text and "Forgot your password?" in page.text
    assert "Create an account" in client.get("/register?lang=en").text


# --- cookies on https ---------------------------------------------------------------------------


@pytest.fixture
def https_client(tmp_path: Path, database_url: str, db: Database) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "https", database_url, issuer="https://kluis.example")
    app = create_app_from_runtime(build_runtime(settings, db))
    install_fast_accounts(app)
    with TestClient(app, base_url="https://kluis.example") as client:
        yield client


def test_session_cookie_is_secure_when_the_issuer_is_https(
    https_client: TestClient, resident: Account
) -> None:
    response = log_in(https_client, EMAIL)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
