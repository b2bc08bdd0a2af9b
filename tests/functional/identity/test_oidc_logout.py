"""RP-initiated logout and back-channel logout through the persistent outbox."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from service.runtime import Runtime
from tests.support.oidc import (
    RP,
    auth_params,
    code_flow,
    exchange,
    hidden_fields,
    make_resident,
    make_rp,
    pkce_pair,
)

ISSUER = "http://testserver"
BACKCHANNEL = "https://buurt.example.nl/backchannel"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session, backchannel_logout_uri=BACKCHANNEL)


@pytest.fixture
def signed_in(client: TestClient, runtime: Runtime, session: Session, rp: RP) -> dict[str, str]:
    make_resident(runtime, session, client)
    query, verifier, _ = code_flow(client, rp, allow=["email"])
    return exchange(client, rp, query["code"], verifier).json()


def _introspect(client: TestClient, rp: RP, token: str) -> bool:
    return bool(client.post("/introspect", data={"token": token}, auth=rp.basic()).json()["active"])


def test_logout_with_hint_ends_session_revokes_tokens_and_redirects(
    client: TestClient, rp: RP, signed_in: dict[str, str]
) -> None:
    response = client.get(
        "/logout",
        params={
            "id_token_hint": signed_in["id_token"],
            "post_logout_redirect_uri": "https://buurt.example.nl/bye",
            "state": "s1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "https://buurt.example.nl/bye?state=s1"
    assert not _introspect(client, rp, signed_in["access_token"])
    assert not _introspect(client, rp, signed_in["refresh_token"])
    assert "kluis_session=" in response.headers["set-cookie"]  # cookie cleared
    # the session is ended server-side too: even the old cookie now needs a login
    _, challenge = pkce_pair()
    again = client.get("/authorize", params=auth_params(rp, challenge), follow_redirects=False)
    assert again.headers["location"].startswith("/login?")


def test_backchannel_logout_token_is_queued_signed_and_retried(
    client: TestClient, rp: RP, signed_in: dict[str, str], runtime: Runtime, session: Session
) -> None:
    client.get("/logout", params={"id_token_hint": signed_in["id_token"]}, follow_redirects=False)
    received: list[str] = []
    answers = iter([503, 200])

    def platform(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == BACKCHANNEL
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        received.append(parse_qs(request.content.decode())["logout_token"][0])
        return httpx.Response(next(answers))

    with httpx.Client(transport=httpx.MockTransport(platform)) as http:
        first = runtime.outbox.deliver_due(http)
        assert [r.delivered for r in first] == [False]
        row = session.get(Delivery, first[0].delivery_id)
        assert row is not None
        session.refresh(row)
        assert row.attempts == 1 and row.next_attempt_at > row.created_at
        row.next_attempt_at = row.created_at  # pretend the backoff has passed
        session.commit()
        second = runtime.outbox.deliver_due(http)
        assert [r.delivered for r in second] == [True]
        assert runtime.outbox.deliver_due(http) == []  # delivered once, never again

    id_claims = jwt.decode(signed_in["id_token"], options={"verify_signature": False})
    jwks = jwt.PyJWKSet.from_dict(client.get("/jwks.json").json())
    jtis = set()
    for token in received:
        header = jwt.get_unverified_header(token)
        assert header["typ"] == "logout+jwt"
        key = next(k for k in jwks.keys if k.key_id == header["kid"])
        claims = jwt.decode(
            token, key.key, algorithms=["RS256"], audience=rp.client_id, issuer=ISSUER
        )
        assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
        assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
        assert "nonce" not in claims
        jtis.add(claims["jti"])
    assert len(jtis) == 1  # a retry carries the same jti: never duplicated in effect


def test_logout_without_hint_asks_for_confirmation(
    client: TestClient, rp: RP, signed_in: dict[str, str]
) -> None:
    page = client.get("/logout", params={"client_id": rp.client_id})
    assert page.status_code == 200 and 'id="logout-form"' in page.text
    assert _introspect(client, rp, signed_in["access_token"])  # nothing happened yet
    fields = hidden_fields(page.text)
    stay = client.post(
        "/logout/confirm", data={**fields, "decision": "stay"}, follow_redirects=False
    )
    assert stay.status_code == 303 and _introspect(client, rp, signed_in["access_token"])
    done = client.post("/logout/confirm", data={**fields, "decision": "logout"})
    assert done.status_code == 200
    assert not _introspect(client, rp, signed_in["access_token"])


def test_logout_confirmation_requires_csrf(
    client: TestClient, rp: RP, signed_in: dict[str, str]
) -> None:
    response = client.post("/logout/confirm", data={"decision": "logout"})
    assert response.status_code == 403
    assert _introspect(client, rp, signed_in["access_token"])


@pytest.mark.parametrize(
    "params",
    [
        {"post_logout_redirect_uri": "https://evil.example/bye"},
        {"post_logout_redirect_uri": "https://buurt.example.nl/not-registered"},
        {"id_token_hint": "not.a.jwt"},
        {"client_id": "kc_unknown"},
    ],
)
def test_invalid_logout_requests_never_redirect(
    client: TestClient, rp: RP, signed_in: dict[str, str], params: dict[str, str]
) -> None:
    if params.get("post_logout_redirect_uri") == "https://evil.example/bye":
        params = {**params, "id_token_hint": signed_in["id_token"]}
    response = client.get("/logout", params=params, follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers
    assert _introspect(client, rp, signed_in["access_token"])


def test_offline_access_survives_logout(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    rp = make_rp(session, "Offline")
    make_resident(runtime, session, client)
    query, verifier, _ = code_flow(
        client, rp, allow=["offline_access"], scope="openid offline_access", prompt="consent"
    )
    tokens = exchange(client, rp, query["code"], verifier).json()
    client.get("/logout", params={"id_token_hint": tokens["id_token"]}, follow_redirects=False)
    refreshed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=rp.basic(),
    )
    assert refreshed.status_code == 200


def test_id_token_sid_is_not_the_session_cookie(
    client: TestClient, rp: RP, signed_in: dict[str, str]
) -> None:
    sid = jwt.decode(signed_in["id_token"], options={"verify_signature": False})["sid"]
    cookie = client.cookies.get("kluis_session")
    assert cookie and sid != cookie and cookie not in signed_in["id_token"]


def test_local_logout_also_revokes_grants_and_queues_backchannel(
    client: TestClient, rp: RP, signed_in: dict[str, str], session: Session
) -> None:
    page = client.get("/login")
    fields = hidden_fields(page.text)
    response = client.post(
        "/logout-local", data={"csrf_token": fields["csrf_token"]}, follow_redirects=False
    )
    assert response.status_code == 303
    assert not _introspect(client, rp, signed_in["access_token"])
    queued = session.query(Delivery).filter(Delivery.client_id == rp.client_id).all()
    assert len(queued) == 1 and queued[0].target_uri == BACKCHANNEL
