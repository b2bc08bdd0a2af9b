"""The operator console's accounts (#16): found only by an exact e-mail address, username or id
(a POST, never a list), shown without personal data; an account for someone without e-mail
gets a paper activation code; disabling, re-enabling and changing roles need the CSRF token and
the password again, and are audited by the domain functions (the same as `kluis accounts`)
with the operator's reference and no personal data. Operators only."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from identity.accounts.models import Account, BrowserSessionRecord
from identity.accounts.roles import OPERATOR_ROLE, STEWARD, grant_role, has_role
from service.runtime import Runtime
from tests.support.accounts import STRONG_PASSWORD, install_fast_accounts
from tests.support.audit import readable_values
from tests.support.oidc import make_resident

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ACCOUNTS = "/console/accounts"
RESIDENT_EMAIL = "klaas@example.org"
RESIDENT_NAME = "Klaas Vaessen"


def csrf(client: TestClient, path: str = ACCOUNTS) -> str:
    return str(_CSRF.findall(client.get(path).text)[0])


def audited(session: Session, *events: str) -> list[tuple[str, str, dict[str, object]]]:
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.event.in_(events)).order_by(AuditEntry.idx)
    )
    return [(r.event, r.actor, json.loads(r.entry)["details"]) for r in rows]


def assert_no_personal_data(session: Session, *values: str) -> None:
    # what a person reads in the entries: not their hashes, ids and timestamps, where "1087"
    # stands by chance; compared without case
    readable = [
        v.lower() for e in session.scalars(select(AuditEntry.entry)) for v in readable_values(e)
    ]
    for value in (RESIDENT_EMAIL, RESIDENT_NAME, *values):
        assert not any(value.lower() in text for text in readable)


@pytest.fixture
def operator(client: TestClient, runtime: Runtime, session: Session) -> str:
    """A logged-in operator whose password is STRONG_PASSWORD."""
    accounts = install_fast_accounts(client.app)  # type: ignore[arg-type]
    operator = make_resident(runtime, session, client, email="beheer@example.org")
    account = session.get(Account, operator.account_id)
    assert account is not None
    account.password_hash = accounts.passwords.hash(STRONG_PASSWORD)
    grant_role(session, runtime.subject_keys, operator.account_id, OPERATOR_ROLE, "operator:cli")
    session.commit()
    return operator.account_id


@pytest.fixture
def resident(runtime: Runtime, session: Session) -> Account:
    """Another account, logged in somewhere (a browser session of its own)."""
    made = make_resident(runtime, session, email=RESIDENT_EMAIL, name=RESIDENT_NAME)
    account = session.get(Account, made.account_id)
    assert account is not None
    return account


def actor_of(runtime: Runtime, session: Session, account_id: str) -> str:
    return f"operator:{runtime.subject_keys.reference(session, account_id)}"


def post(client: TestClient, path: str, data: dict[str, str], token_from: str = "") -> Response:
    data = {**data, "csrf_token": csrf(client, token_from or path)}
    return client.post(path, data=data, follow_redirects=False)


def test_the_accounts_pages_are_a_404_for_residents_and_a_login_for_visitors(
    client: TestClient, runtime: Runtime, session: Session, resident: Account
) -> None:
    paths = [ACCOUNTS, f"{ACCOUNTS}/{resident.id}", f"{ACCOUNTS}/{resident.id}/disable"]
    for path in paths:
        visitor = client.get(path, follow_redirects=False)
        assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?")
    make_resident(runtime, session, client, email="buur@example.org")
    for path in paths:
        assert client.get(path).status_code == 404
    token = csrf(client, "/login")
    for path, data in [
        (f"{ACCOUNTS}/find", {"identifier": RESIDENT_EMAIL}),
        (ACCOUNTS, {"name": "Iemand"}),
        (f"{ACCOUNTS}/{resident.id}/disable", {"password": STRONG_PASSWORD}),
        (f"{ACCOUNTS}/{resident.id}/roles", {"role-operator": "yes", "password": "x"}),
    ]:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 404
    session.expire_all()
    assert resident.status == "active" and not has_role(session, resident.id, OPERATOR_ROLE)


def test_an_account_is_found_only_by_its_exact_address_username_or_id(
    client: TestClient, session: Session, operator: str, resident: Account
) -> None:
    page = client.get(ACCOUNTS)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert RESIDENT_EMAIL not in page.text  # no list of everyone
    find = f"{ACCOUNTS}/find"
    assert client.post(find, data={"identifier": RESIDENT_EMAIL}).status_code == 403
    for identifier in (" Klaas@Example.org ", resident.handle, resident.id):
        found = post(client, find, {"identifier": identifier}, ACCOUNTS)
        assert found.status_code == 303
        assert found.headers["location"] == f"{ACCOUNTS}/{resident.id}"
    for partial in ("klaas@example", "klaas", resident.handle[:-1], resident.id[:-1]):
        missed = post(client, find, {"identifier": partial}, ACCOUNTS)
        assert missed.status_code == 400
        assert 'id="identifier-error"' in missed.text
        assert f'value="{partial}"' in missed.text
    empty = post(client, find, {"identifier": ""}, ACCOUNTS)
    assert empty.status_code == 400
    shown = client.get(f"{ACCOUNTS}/{resident.id}")
    assert shown.status_code == 200 and resident.handle in shown.text
    assert RESIDENT_EMAIL not in shown.text and RESIDENT_NAME not in shown.text
    assert 'data-status="active"' in shown.text
    assert client.get(f"{ACCOUNTS}/{'0' * 32}").status_code == 404


def test_an_account_without_e_mail_gets_a_paper_activation_code_and_is_audited(
    client: TestClient, runtime: Runtime, session: Session, operator: str
) -> None:
    assert client.post(ACCOUNTS, data={"name": "Mien Ruys"}).status_code == 403
    refused = post(client, ACCOUNTS, {"name": "  "})
    assert refused.status_code == 400 and 'id="name-error"' in refused.text
    created = post(client, ACCOUNTS, {"name": "Mien Ruys"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    text = created.text
    [code] = re.findall(r'<strong class="code" id="activation-code">([^<]+)</strong>', text)
    [handle] = re.findall(r'<strong class="code" id="handle">([^<]+)</strong>', text)
    assert code and "Mien Ruys" not in text
    account = session.scalar(select(Account).where(Account.handle == handle))
    assert account is not None and account.status == "pending_activation"
    page = client.get(f"{ACCOUNTS}/{account.id}").text
    assert 'data-status="pending_activation"' in page and code not in page
    [(_, actor, details)] = audited(session, "account.registered")
    assert actor == actor_of(runtime, session, operator) and details == {"channel": "desk"}
    assert_no_personal_data(session, "Mien Ruys", code)


def test_disabling_needs_the_password_again_and_ends_sessions_then_re_enabling_restores(
    client: TestClient, runtime: Runtime, session: Session, operator: str, resident: Account
) -> None:
    [sid_hash] = session.scalars(
        select(BrowserSessionRecord.id_hash).where(BrowserSessionRecord.account_id == resident.id)
    )
    path = f"{ACCOUNTS}/{resident.id}/disable"
    form = client.get(path)
    assert form.status_code == 200 and 'type="password"' in form.text
    assert client.post(path, data={"password": STRONG_PASSWORD}).status_code == 403
    wrong = post(client, path, {"password": "niet het wachtwoord"})
    assert wrong.status_code == 400 and 'id="password-error"' in wrong.text
    session.expire_all()
    assert resident.status == "active" and audited(session, "account.disabled") == []
    done = post(client, path, {"password": STRONG_PASSWORD})
    assert done.headers["location"] == f"{ACCOUNTS}/{resident.id}?done=disabled"
    session.expire_all()
    assert resident.status == "disabled"
    ended = session.get(BrowserSessionRecord, sid_hash)
    assert ended is not None and ended.ended_at is not None
    actor = actor_of(runtime, session, operator)
    assert audited(session, "account.disabled") == [
        ("account.disabled", actor, {"sessions_ended": 1, "grants_revoked": 0})
    ]
    # the session was ended by the operator, not by a logout of the resident's
    assert audited(session, "logout.completed") == [("logout.completed", actor, {"backchannel": 0})]
    page = client.get(f"{ACCOUNTS}/{resident.id}?done=disabled").text
    assert 'role="status"' in page and 'id="enable-link"' in page
    enable = f"{ACCOUNTS}/{resident.id}/enable"
    assert post(client, enable, {"password": STRONG_PASSWORD}).status_code == 303
    session.expire_all()
    assert resident.status == "active"
    assert audited(session, "account.enabled") == [("account.enabled", actor, {"status": "active"})]
    assert_no_personal_data(session)


def test_an_operator_cannot_disable_themselves_or_drop_their_own_operator_role(
    client: TestClient, session: Session, operator: str
) -> None:
    for action, data in [("disable", {}), ("roles", {"role-steward": "yes"})]:
        path = f"{ACCOUNTS}/{operator}/{action}"
        refused = post(client, path, {**data, "password": STRONG_PASSWORD})
        assert refused.status_code == 400 and 'id="form-error"' in refused.text
    session.expire_all()
    assert has_role(session, operator, OPERATOR_ROLE) and not has_role(session, operator, STEWARD)


def test_roles_are_granted_and_revoked_with_the_password_again_and_audited(
    client: TestClient, runtime: Runtime, session: Session, operator: str, resident: Account
) -> None:
    path = f"{ACCOUNTS}/{resident.id}/roles"
    assert 'id="role-steward"' in client.get(path).text
    data = {"role-steward": "yes", "role-operator": "yes"}
    assert client.post(path, data={**data, "password": STRONG_PASSWORD}).status_code == 403
    assert post(client, path, {**data, "password": "fout"}).status_code == 400
    assert not has_role(session, resident.id, STEWARD)
    done = post(client, path, {**data, "password": STRONG_PASSWORD})
    assert done.headers["location"] == f"{ACCOUNTS}/{resident.id}?done=roles"
    session.expire_all()
    assert has_role(session, resident.id, STEWARD) and has_role(session, resident.id, OPERATOR_ROLE)
    post(client, path, {"role-steward": "yes", "password": STRONG_PASSWORD})
    session.expire_all()
    assert not has_role(session, resident.id, OPERATOR_ROLE)
    actor = actor_of(runtime, session, operator)
    assert audited(session, "account.role_granted", "account.role_revoked")[1:] == [
        ("account.role_granted", actor, {"role": "operator"}),
        ("account.role_granted", actor, {"role": "steward"}),
        ("account.role_revoked", actor, {"role": "operator"}),
    ]
    assert_no_personal_data(session)


def test_kluis_accounts_disable_and_enable_use_the_same_functions(
    client: TestClient, runtime: Runtime, session: Session, resident: Account
) -> None:
    from identity.accounts.cli import accounts_cli
    from service import cli as _service_cli  # noqa: F401 (adds disable and enable)

    def run(*args: str) -> str:
        result = CliRunner().invoke(accounts_cli, list(args), obj=runtime)
        assert result.exit_code == 0, result.output
        return result.output

    assert "is now disabled" in run("disable", "--email", RESIDENT_EMAIL)
    session.expire_all()
    assert resident.status == "disabled"
    live = BrowserSessionRecord.account_id == resident.id, BrowserSessionRecord.ended_at.is_(None)
    assert session.scalar(select(BrowserSessionRecord).where(*live)) is None
    assert "already was disabled" in run("disable", "--account", resident.id)
    assert "is now active" in run("enable", "--account", resident.id)
    assert [(e, a) for e, a, _ in audited(session, "account.disabled", "account.enabled")] == [
        ("account.disabled", "operator:cli"),
        ("account.enabled", "operator:cli"),
    ]
