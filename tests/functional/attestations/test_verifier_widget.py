"""The verification widget's endpoints: the script and its styles, the session's state for the
platform's page (JSON, long-poll, server-sent events) behind the widget token, CORS only for
the platform's own origins, the hosted page `/verify/{id}`, and `return_uri`. The widget reads
the state and the pairing code, never the result; each guard has an attack that fails."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.wallet.pairing import check_pairing_code, open_session
from tests.conftest import TEST_ISSUER
from tests.functional.attestations.test_verifier import area_query
from tests.support.oidc import RP, make_rp
from tests.support.pages import shows
from tests.support.wallet import StoredCredential, Wallet

PLATFORM_ORIGIN = "https://buurt.example.nl"  # make_rp's redirect URI is on it
PURPOSE = "Stemmen in buurt 1087"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


def start(client: TestClient, rp: RP, **body: Any) -> Any:
    payload = {"dcql_query": area_query(), "purpose": PURPOSE, **body}
    return client.post("/verifier/sessions", json=payload, auth=rp.basic())


def created_session(client: TestClient, rp: RP, **body: Any) -> dict[str, Any]:
    response = start(client, rp, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def state(client: TestClient, created: dict[str, Any], token: str | None = None, **kw: Any) -> Any:
    params = {"token": created["widget_token"] if token is None else token}
    params.update(kw.pop("params", {}))
    return client.get(f"/widget/sessions/{created['session_id']}", params=params, **kw)


# --- the script --------------------------------------------------------------------------------


def test_the_script_and_styles_load_from_any_page_and_carry_both_languages(
    client: TestClient,
) -> None:
    script = client.get("/widget/kluis-verify.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "access-control-allow-origin" not in script.headers  # a script tag needs no CORS
    assert "Wacht op je wallet…" in script.text and "Waiting for your wallet…" in script.text
    assert "/*KLUIS_TEXTS*/" not in script.text
    styles = client.get("/widget/kluis-verify.css")
    assert styles.status_code == 200 and styles.headers["content-type"].startswith("text/css")
    assert ".kluis-verify" in styles.text


# --- the state, behind the widget token --------------------------------------------------------


def test_the_widget_reads_the_state_with_its_token_and_nothing_without_it(
    client: TestClient, rp: RP
) -> None:
    created = created_session(client, rp)
    assert created["widget_url"] == (
        f"{TEST_ISSUER}/verify/{created['session_id']}?token={created['widget_token']}"
    )
    body = state(client, created).json()
    assert body == {
        "status": "pending",
        "qr_svg_url": f"{created['status_url']}/qr.svg",
        "universal_link": created["universal_link"],
        "expires_at": created["expires_at"],
    }
    other = created_session(client, rp)
    for token in ("", "x" * 43, other["widget_token"]):
        refused = state(client, created, token)
        assert refused.status_code == 404, token
        assert refused.json()["type"].endswith("verifier-session-not-found")
    assert client.get(f"/widget/sessions/{created['session_id']}").status_code == 404
    unknown = {**created, "session_id": "nope"}
    assert state(client, unknown).status_code == 404


def test_the_widget_sees_done_but_never_the_result(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = created_session(client, rp)
    answer = wallet.present(created["qr_payload"], [("postcode_area",)])
    assert answer.status_code == 200, answer.text

    body = state(client, created).json()
    assert body["status"] == "done"
    assert set(body) == {"status", "qr_svg_url", "universal_link", "expires_at"}
    events = client.get(
        f"/widget/sessions/{created['session_id']}/events",
        params={"token": created["widget_token"]},
    )
    assert events.headers["content-type"].startswith("text/event-stream")
    assert events.text == 'event: status\ndata: {"status": "done"}\n\n'
    page = client.get(created["widget_url"])
    assert not shows(page.text.replace(PURPOSE, ""), "1087") and "result" not in page.text
    # the platform itself still reads the result, server to server
    platform = client.get(f"/verifier/sessions/{created['session_id']}", auth=rp.basic())
    assert "result" in platform.json()


def test_the_pairing_code_shows_until_the_resident_has_typed_it(
    client: TestClient, session: Session, rp: RP, account: str
) -> None:
    created = created_session(client, rp)
    pairing = open_session(session, created["session_id"], account)
    session.commit()

    body = state(client, created).json()
    assert body["status"] == "scanned" and body["pairing_code"] == pairing.code
    page = client.get(created["widget_url"]).text
    assert f'<p class="kv-code">{pairing.code}</p>' in page
    check_pairing_code(session, pairing, pairing.code)
    session.commit()
    assert state(client, created).json()["status"] == "scanned"
    assert "pairing_code" not in state(client, created).json()


def test_long_poll_answers_when_the_wait_runs_out_and_refuses_a_long_wait(
    client: TestClient, rp: RP
) -> None:
    created = created_session(client, rp)
    started = time.monotonic()
    body = state(client, created, params={"wait": "0.6"}).json()
    assert body["status"] == "pending" and time.monotonic() - started >= 0.5
    assert body["universal_link"] == created["universal_link"]
    assert state(client, created, params={"wait": "31"}).status_code == 422
    assert state(client, created, params={"wait": "soon"}).status_code == 422


# --- CORS --------------------------------------------------------------------------------------


def test_cors_lets_only_the_platforms_own_origins_read_the_state(
    client: TestClient, session: Session, rp: RP
) -> None:
    created = created_session(client, rp)
    allowed = state(client, created, headers={"Origin": PLATFORM_ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PLATFORM_ORIGIN
    assert "access-control-allow-credentials" not in allowed.headers
    assert "Origin" in allowed.headers["vary"] and allowed.headers["cache-control"] == "no-store"
    assert state(client, created).headers.get("access-control-allow-origin") is None
    kluis = state(client, created, headers={"Origin": TEST_ISSUER})
    assert kluis.headers["access-control-allow-origin"] == TEST_ISSUER

    other = make_rp(session, name="Ander platform", redirect_uris=["https://ander.example/cb"])
    for origin in (
        "https://evil.example",
        "https://ander.example",
        "null",
        PLATFORM_ORIGIN + ":8443",
    ):
        refused = state(client, created, headers={"Origin": origin})
        assert refused.status_code == 403, origin
        assert "access-control-allow-origin" not in refused.headers
        stream = client.get(
            f"/widget/sessions/{created['session_id']}/events",
            params={"token": created["widget_token"]},
            headers={"Origin": origin},
        )
        assert stream.status_code == 403 and "access-control-allow-origin" not in stream.headers
    assert other.client_id


# --- return_uri and the hosted page ------------------------------------------------------------


def test_return_uri_must_be_on_the_platforms_own_origin(client: TestClient, rp: RP) -> None:
    ok = created_session(client, rp, return_uri=f"{PLATFORM_ORIGIN}/stemmen?ronde=2")
    assert ok["session_id"]
    for bad in (
        "https://evil.example/stemmen",
        f"{PLATFORM_ORIGIN}:444/stemmen",
        f"{PLATFORM_ORIGIN}/stemmen#top",
        "https://user:pw@buurt.example.nl/",
        "javascript:alert(1)",
        "/relative",
        "https://[::1/x",
        f"{PLATFORM_ORIGIN}:port/x",
        42,
    ):
        refused = start(client, rp, return_uri=bad)
        assert refused.status_code == 422, bad
        assert "return_uri" in refused.json()["detail"], bad


def test_the_hosted_page_keeps_the_token_in_a_cookie_and_shows_the_qr_code(
    client: TestClient, rp: RP
) -> None:
    back = f"{PLATFORM_ORIGIN}/stemmen"
    created = created_session(client, rp, return_uri=back)
    path = f"/verify/{created['session_id']}"

    moved = client.get(created["widget_url"] + "&lang=en", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == path + "?lang=en"
    cookie = moved.headers["set-cookie"]
    assert f"Path={path}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get(path + "?lang=en")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert 'lang="en"' in text and "Buurtplatform asks you to prove something" in text
    assert f'src="/verifier/sessions/{created["session_id"]}/qr.svg"' in text
    assert f'data-kluis-token="{created["widget_token"]}"' in text
    assert f'data-kluis-return="{back}"' in text and f'href="{back}"' in text
    assert 'role="status"' in text and "Waiting for your wallet" in text
    assert '<script src="/widget/kluis-verify.js" defer>' in text


def test_the_hosted_page_says_the_same_for_a_wrong_token_and_no_token(
    client: TestClient, rp: RP
) -> None:
    created = created_session(client, rp)
    path = f"/verify/{created['session_id']}"
    for url in (path, path + "?token=wrong", "/verify/unknown?token=" + created["widget_token"]):
        fresh = TestClient(client.app, base_url=TEST_ISSUER)
        page = fresh.get(url)
        assert page.status_code == 404, url
        assert "Dit verzoek bestaat niet meer" in page.text
    query = parse_qs(urlsplit(created["widget_url"]).query)
    assert query == {"token": [created["widget_token"]]}


def test_kluis_own_login_sessions_have_no_widget(client: TestClient, session: Session) -> None:
    from attestations.verifier.login import create_login_session
    from attestations.verifier.widget import widget_token

    config = client.app.state.runtime.verifier  # type: ignore[attr-defined]
    row = create_login_session(session, config, "Inloggen bij Kluis")
    session.commit()
    token = widget_token(config, row.id)
    login = {"session_id": row.id, "widget_token": token}
    assert state(client, login).status_code == 404
    assert client.get(f"/verify/{row.id}?token={token}").status_code == 404
