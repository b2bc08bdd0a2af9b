"""How far a grant reaches and how long it lives: offline access only with prompt=consent and
a tick, codes and refresh tokens that die with the browser session (or a new login in it),
scopes a refresh may narrow but a claims request cannot widen, `sid` per sector, `max_age=0`
without a login loop, a non-ASCII PKCE verifier refused as invalid_grant, and a login hint
never kept."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.accounts.models import Account, AccountStatus
from identity.accounts.sessions import end_account_sessions
from identity.oidc.models import Grant
from service.runtime import Runtime
from tests.support.oidc import (
    RP,
    auth_params,
    code_flow,
    exchange,
    make_resident,
    make_rp,
    pkce_pair,
    query_of,
)


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def resident_id(client: TestClient, runtime: Runtime, session: Session) -> str:
    return make_resident(runtime, session, client).account_id


def _refresh(client: TestClient, rp: RP, token: str, **extra: str) -> dict[str, object]:
    response = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token, **extra},
        auth=rp.basic(),
    )
    return {"status": response.status_code, **response.json()}


def test_offline_access_needs_prompt_consent_and_a_tick(
    client: TestClient, rp: RP, resident_id: str
) -> None:
    query, verifier, _ = code_flow(client, rp, allow=[], scope="openid offline_access")
    assert "offline_access" not in exchange(client, rp, query["code"], verifier).json()["scope"]
    query, verifier, _ = code_flow(
        client, rp, allow=[], scope="openid offline_access", prompt="consent"
    )
    assert "offline_access" not in exchange(client, rp, query["code"], verifier).json()["scope"]
    query, verifier, _ = code_flow(
        client, rp, allow=["offline_access"], scope="openid offline_access", prompt="consent"
    )
    assert "offline_access" in exchange(client, rp, query["code"], verifier).json()["scope"]


def test_refresh_dies_with_the_session_without_offline_access(
    client: TestClient, rp: RP, resident_id: str, session: Session
) -> None:
    query, verifier, _ = code_flow(client, rp, allow=[])
    tokens = exchange(client, rp, query["code"], verifier).json()
    end_account_sessions(session, resident_id)  # e.g. expiry or another path ending it
    session.commit()
    result = _refresh(client, rp, tokens["refresh_token"])
    assert result["status"] == 400 and result["error"] == "invalid_grant"


def test_a_code_dies_with_the_session_without_offline_access(
    client: TestClient, rp: RP, resident_id: str, session: Session
) -> None:
    query, verifier, _ = code_flow(client, rp, allow=[])
    # the session ended, its grant not revoked: what a logout leaves on PostgreSQL when it
    # commits between authorize's read of the session and its write of the grant and code
    end_account_sessions(session, resident_id)
    session.commit()
    refused = exchange(client, rp, query["code"], verifier)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    [grant] = session.scalars(select(Grant).where(Grant.account_id == resident_id)).all()
    session.refresh(grant)
    assert grant.revoked_at is not None  # and the code is spent with it
    again = exchange(client, rp, query["code"], verifier)
    assert again.status_code == 400 and "already used" in again.json()["error_description"]


def test_an_offline_access_code_outlives_the_session(
    client: TestClient, rp: RP, resident_id: str, session: Session
) -> None:
    query, verifier, _ = code_flow(
        client, rp, allow=["offline_access"], scope="openid offline_access", prompt="consent"
    )
    end_account_sessions(session, resident_id)
    session.commit()
    tokens = exchange(client, rp, query["code"], verifier)
    assert tokens.status_code == 200 and "offline_access" in tokens.json()["scope"]


def test_no_code_or_refresh_token_outlives_its_account_even_with_offline_access(
    client: TestClient, rp: RP, resident_id: str, session: Session
) -> None:
    def offline_code() -> tuple[str, str]:
        query, verifier, _ = code_flow(
            client, rp, allow=["offline_access"], scope="openid offline_access", prompt="consent"
        )
        return query["code"], verifier

    tokens = exchange(client, rp, *offline_code()).json()
    code, verifier = offline_code()
    # disabled, its grants not revoked: what a disabling leaves when it commits between
    # authorize's read of the session and its write of the grant and code
    account = session.get(Account, resident_id)
    assert account is not None
    account.status = AccountStatus.DISABLED.value
    session.commit()
    refused = exchange(client, rp, code, verifier)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    result = _refresh(client, rp, str(tokens["refresh_token"]))
    assert result["status"] == 400 and result["error"] == "invalid_grant"
    grants = session.scalars(select(Grant).where(Grant.account_id == resident_id)).all()
    for grant in grants:
        session.refresh(grant)
    assert len(grants) == 2 and all(grant.revoked_at is not None for grant in grants)


def test_sid_differs_per_sector(client: TestClient, resident_id: str, session: Session) -> None:
    a = make_rp(session, "A", redirect_uris=["https://a.example/cb"])
    b = make_rp(session, "B", redirect_uris=["https://b.example/cb"])
    sids = []
    for rp in (a, b):
        query, verifier, _ = code_flow(client, rp, allow=[])
        token = exchange(client, rp, query["code"], verifier).json()["id_token"]
        sids.append(jwt.decode(token, options={"verify_signature": False})["sid"])
    assert sids[0] != sids[1]


def test_max_age_zero_does_not_loop_after_login(
    client: TestClient, rp: RP, runtime: Runtime, session: Session
) -> None:
    _, challenge = pkce_pair()
    start = client.get(
        "/authorize", params=auth_params(rp, challenge, max_age="0"), follow_redirects=False
    )
    continue_path = query_of(start.headers["location"])["return_to"]
    make_resident(runtime, session, client)  # logs in after the request started
    after = client.get(continue_path, follow_redirects=False)
    assert after.status_code == 200 and 'id="consent-form"' in after.text


def test_non_ascii_pkce_verifier_is_invalid_grant_not_a_crash(
    client: TestClient, rp: RP, resident_id: str
) -> None:
    query, _, _ = code_flow(client, rp, allow=[])
    response = exchange(client, rp, query["code"], "é" * 50)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_claims_parameter_cannot_exceed_the_clients_scopes(
    client: TestClient, resident_id: str, session: Session
) -> None:
    narrow = make_rp(session, "Smal", scope="openid email")
    params = auth_params(
        narrow, pkce_pair()[1], scope="openid", claims='{"userinfo": {"name": null}}'
    )
    start = client.get("/authorize", params=params, follow_redirects=False)
    # nothing requestable remains, so no consent screen offering `name`
    page = (
        client.get(start.headers["location"]) if "continue" in start.headers["location"] else None
    )
    assert page is None or 'value="name"' not in page.text


def test_refresh_may_narrow_the_scope(client: TestClient, rp: RP, resident_id: str) -> None:
    query, verifier, _ = code_flow(client, rp, allow=["email"])
    tokens = exchange(client, rp, query["code"], verifier).json()
    narrowed = _refresh(client, rp, tokens["refresh_token"], scope="openid")
    assert narrowed["status"] == 200 and narrowed["scope"] == "openid"
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {narrowed['access_token']}"})
    assert info.status_code == 200 and "email" not in info.json()  # follows the narrowed scope
    widened = _refresh(client, rp, str(narrowed["refresh_token"]), scope="openid email residence")
    assert widened["error"] == "invalid_grant"
    # refused after the token was consumed: the request's transaction was rolled back, so the
    # token was not used up and reuse detection does not revoke the grant
    again = _refresh(client, rp, str(narrowed["refresh_token"]), scope="openid")
    assert again["status"] == 200 and again["scope"] == "openid"


def test_a_new_login_in_the_browser_ends_the_old_sessions_grants(
    app: object, client: TestClient, rp: RP, session: Session
) -> None:
    from adapters.outbox import Delivery
    from identity.accounts.models import AccountStatus
    from identity.accounts.service import create_account
    from tests.support.accounts import install_fast_accounts, log_in

    accounts = install_fast_accounts(app)  # type: ignore[arg-type]
    for email in ("a@example.org", "b@example.org"):
        create_account(
            accounts,
            session,
            email=email,
            name=None,
            password_hash=accounts.passwords.hash("paarse olifant danst op het dak"),
            status=AccountStatus.ACTIVE,
            email_verified=True,
        )
    session.commit()
    bc = make_rp(
        session,
        "Met backchannel",
        backchannel_logout_uri="https://bc.example/logout",
        redirect_uris=["https://bc.example/cb"],
    )
    assert log_in(client, "a@example.org").status_code == 303
    query, verifier, _ = code_flow(client, bc, allow=[])
    tokens = exchange(client, bc, query["code"], verifier).json()
    assert log_in(client, "b@example.org").status_code == 303  # someone else, same browser
    result = _refresh(client, bc, tokens["refresh_token"])
    assert result["error"] == "invalid_grant"
    assert session.query(Delivery).filter(Delivery.client_id == bc.client_id).count() == 1


def test_login_hint_is_never_stored(client: TestClient, rp: RP, session: Session) -> None:
    from identity.oidc.models import AuthorizationRequest

    params = auth_params(rp, pkce_pair()[1], login_hint="hint.person@example.org")
    start = client.get("/authorize", params=params, follow_redirects=False)
    assert "hint.person%40example.org" in start.headers["location"]  # passed to the login page
    rows = session.query(AuthorizationRequest).all()
    assert rows and all("hint.person" not in str(r.params) for r in rows)
