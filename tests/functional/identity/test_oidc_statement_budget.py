"""How many SQL statements and transactions each endpoint of the single sign-on code flow and
the refresh grant costs (bench/oidc_flow/profile.py measures the same). The budgets are the
current numbers: a change that adds a round trip fails here and has to say why."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from keys import PendingJwt
from service.runtime import Runtime
from tests.support.databases import backend
from tests.support.oidc import RP, code_flow, exchange, make_resident, make_rp
from tests.support.statements import counted

ALLOW = ["email", "email_verified", "name", "preferred_username"]
# SQLite cannot put an INSERT or UPDATE in a WITH: one statement more where PostgreSQL
# consumes a code or refresh token and reads its grant in one (identity/oidc/consume.py) or
# writes a grant and its code in one (identity/oidc/authorize.py)
NO_WITH = 0 if backend() == "postgresql" else 1
# An audit append: the lock with the tail read, and the INSERT; on PostgreSQL one call of
# `audit_append` (migration 0023)
AUDIT = 1 if backend() == "postgresql" else 2
# A write with its audit entry: on PostgreSQL one statement (`audit.record_if`, migration 0024)
AUDITED_WRITE = 1 if backend() == "postgresql" else 1 + AUDIT


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def browser(client: TestClient, runtime: Runtime, session: Session) -> TestClient:
    make_resident(runtime, session, client)
    warm_up = make_rp(session, "Warm-up platform")
    query, verifier, _ = code_flow(client, warm_up, allow=ALLOW)
    # the process's caches (the decrypted signing key) are warm, as in a running service
    assert exchange(client, warm_up, query["code"], verifier).status_code == 200
    return client


def sso(browser: TestClient, rp: RP) -> tuple[str, str]:
    query, verifier, _ = code_flow(browser, rp)
    return query["code"], verifier


def test_sso_token_and_userinfo_stay_within_their_statement_budget(
    browser: TestClient, rp: RP, engine: Engine
) -> None:
    code_flow(browser, rp, allow=ALLOW)  # the one consent; the flows below remember it
    code, verifier = sso(browser, rp)
    with counted(engine) as token:
        response = exchange(browser, rp, code, verifier)
    assert response.status_code == 200, response.text
    # client, consume code (UPDATE … RETURNING), grant with the active signing key's kid and
    # the resident's data key (one read; on PostgreSQL in the consuming statement), tokens
    # with their audit entry
    assert token["statements"] <= 2 + NO_WITH + AUDITED_WRITE, token
    # client_secret_basic consumes nothing: authentication and grant share one transaction
    assert token["transactions"] == 1, token

    access = response.json()["access_token"]
    with counted(engine) as info:
        response = browser.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200 and response.json()["email"], response.text
    # token with its grant, client, the resident's data key (it serves e-mail, name and the
    # audit reference), account and the claims under consent, in one read; the audit append
    assert info["statements"] <= 1 + AUDIT, info
    assert info["transactions"] == 1, info


def test_refresh_grant_stays_within_its_statement_budget(
    browser: TestClient, rp: RP, engine: Engine
) -> None:
    code_flow(browser, rp, allow=ALLOW)
    code, verifier = sso(browser, rp)
    refresh_token = exchange(browser, rp, code, verifier).json()["refresh_token"]
    with counted(engine) as counts:
        response = browser.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=rp.basic(),
        )
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] != refresh_token
    # client, consume token (UPDATE … RETURNING), grant with its session's liveness, the
    # active signing key's kid and the data key (one read; on PostgreSQL in the consuming
    # statement), tokens (one INSERT) with their audit entry
    assert counts["statements"] <= 2 + NO_WITH + AUDITED_WRITE, counts
    assert counts["transactions"] == 1, counts


def test_one_statement_consumption_leaves_other_clients_tokens_alone(
    browser: TestClient, rp: RP, session: Session
) -> None:
    """The consuming UPDATE names the client: another client's refresh token or code is
    refused without being used up, and its own client can still redeem it."""
    other = make_rp(session, "Other platform", redirect_uris=["https://other.example/cb"])
    code_flow(browser, rp, allow=ALLOW)
    code, verifier = sso(browser, rp)
    stolen = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": rp.redirect_uri,
        },
        auth=other.basic(),
    )
    assert stolen.json()["error"] == "invalid_grant"
    refresh_token = exchange(browser, rp, code, verifier).json()["refresh_token"]

    def refresh(by: RP, value: str) -> dict[str, str]:
        data = {"grant_type": "refresh_token", "refresh_token": value}
        result: dict[str, str] = browser.post("/token", data=data, auth=by.basic()).json()
        return result

    assert refresh(other, refresh_token)["error"] == "invalid_grant"
    rotated = refresh(rp, refresh_token)["refresh_token"]
    # reuse of the rotated-out token still revokes the grant
    assert refresh(rp, refresh_token)["error"] == "invalid_grant"
    assert refresh(rp, rotated)["error"] == "invalid_grant"


def test_id_token_is_signed_after_the_token_transaction_has_committed(
    browser: TestClient, rp: RP, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the audit log's append lock nor SQLite's write lock is held through the ID
    token's RSA signature: it is signed once the token endpoint's transaction has committed
    (also with ID token claims, whose release is audited)."""
    order: list[str] = []
    sign = PendingJwt.sign

    def watched(self: PendingJwt) -> str:
        order.append("sign")
        return sign(self)

    def on_execute(conn: object, cursor: object, statement: str, *args: object) -> None:
        # the app's commits are savepoints released here
        order.append("commit" if statement.lstrip().upper().startswith("RELEASE") else "sql")

    monkeypatch.setattr(PendingJwt, "sign", watched)
    claims = json.dumps({"id_token": {"name": {"essential": True}}})
    query, verifier, _ = code_flow(browser, rp, allow=ALLOW, claims=claims)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        response = exchange(browser, rp, query["code"], verifier)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200, response.text
    assert order.count("sign") == 1
    assert order[-2:] == ["commit", "sign"], order


def test_authorize_with_remembered_consent_stays_within_its_statement_budget(
    browser: TestClient, rp: RP, engine: Engine, session: Session
) -> None:
    code_flow(browser, rp, allow=ALLOW)
    with counted(engine) as counts:
        code, verifier = sso(browser, rp)
    # client, browser session with the consent decisions (one read), grant + code (one
    # INSERT with a WITH on PostgreSQL, two on SQLite)
    assert counts["statements"] <= 3 + NO_WITH, counts
    assert counts["transactions"] == 1, counts
    # the code is usable: its grant was written with it
    assert exchange(browser, rp, code, verifier).status_code == 200
