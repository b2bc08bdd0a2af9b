"""idpyoidc (PyPI), an RP library independent of Kluis, Authlib and panva's openid-client, as a
relying party of a real `kluis serve` (tests/support/idpyoidc_rp.py): discovery, a static
client, the code flow with PKCE and nonce through Kluis's login and consent pages, the ID token
verified by idpyoidc against Kluis's JWKS, UserInfo with only the consented claims, refresh with
rotation, RP-initiated logout with the ID token as hint, and back-channel logout tokens that
idpyoidc verifies and maps to the RP's session."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from idpyoidc.client.oauth2.stand_alone_client import backchannel_logout

from tests.support import forms
from tests.support.idpyoidc_rp import as_dict, rp_handler
from tests.support.live_kluis import add_client
from tests.support.platforms import (
    PASSWORD,
    RESIDENT_NAME,
    browser,
    log_out_at_kluis,
    new_resident,
    wait_for,
)
from tests.support.server import LiveServer, free_port

BASE = "http://127.0.0.1:9/idpy"  # the RP's own pages are never visited: nothing listens
REDIRECT_URI = BASE + "/callback"
SIGNED_OUT = BASE + "/signed-out"


class BackChannel:
    """The RP's back-channel logout endpoint: hands each POSTed body to `on_logout`."""

    def __init__(self) -> None:
        self.on_logout: Callable[[str], None] | None = None
        self.port = free_port()
        channel = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                if channel.on_logout is not None:
                    channel.on_logout(body)
                self.send_response(200)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/backchannel"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def back_channel() -> Iterator[BackChannel]:
    channel = BackChannel()
    yield channel
    channel.close()


@pytest.fixture(scope="module")
def client(kluis: LiveServer, back_channel: BackChannel) -> dict[str, Any]:
    return add_client(
        kluis,
        "Buurtapp (idpyoidc)",
        REDIRECT_URI,
        SIGNED_OUT,
        backchannel_logout_uri=back_channel.url,
    )


class Session:
    """One resident's session at the idpyoidc RP: its handler, browser and state key."""

    def __init__(self, kluis: LiveServer, client: dict[str, Any], http: httpx.Client) -> None:
        self.kluis, self.client, self.http = kluis, client, http
        self.rp = rp_handler(
            kluis.url,
            client,
            base_url=BASE,
            redirect_uri=REDIRECT_URI,
            post_logout_redirect_uri=SIGNED_OUT,
        )

    def log_in(self, email: str) -> dict[str, Any]:
        url = self.rp.begin(issuer_id=self.kluis.url)
        request = httpx.URL(url).params
        assert request["code_challenge_method"] == "S256" and request["nonce"]
        walked = forms.authorize(
            self.http,
            url,
            redirect_uri=REDIRECT_URI,
            email=email,
            password=PASSWORD,
            claims_to_allow=["email", "name"],
        )
        assert walked.pages == ["login", "consent"]
        result: dict[str, Any] = self.rp.finalize(self.kluis.url, dict(walked.callback_url.params))
        assert "error" not in result, result
        return result


@pytest.fixture
def session(kluis: LiveServer, client: dict[str, Any]) -> Iterator[Session]:
    with browser() as http:
        yield Session(kluis, client, http)


def test_idpyoidc_logs_in_and_gets_only_the_consented_claims(
    kluis: LiveServer, client: dict[str, Any], session: Session
) -> None:
    email = new_resident(kluis)
    result = session.log_in(email)

    id_token = as_dict(result["id_token"])  # verified by idpyoidc: signature, iss, aud, nonce
    assert id_token["iss"] == kluis.url and client["client_id"] in id_token["aud"]
    userinfo = as_dict(result["userinfo"])
    assert userinfo["sub"] == id_token["sub"] and email not in userinfo["sub"]
    assert userinfo["email"] == email and userinfo["name"] == RESIDENT_NAME
    assert "preferred_username" not in userinfo  # offered, not ticked


def test_idpyoidc_refreshes_with_rotation(
    kluis: LiveServer, client: dict[str, Any], session: Session
) -> None:
    email = new_resident(kluis)
    result = session.log_in(email)
    state = result["state"]
    first = dict(session.rp.get_session_information(state))  # what idpyoidc keeps of the session
    assert first["refresh_token"] and first["access_token"] == result["token"]

    refreshed = as_dict(session.rp.refresh_access_token(state))
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    again = as_dict(session.rp.get_user_info(state, access_token=refreshed["access_token"]))
    assert again["email"] == email

    replay = httpx.post(
        kluis.url + "/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_idpyoidc_logout_ends_the_kluis_session(kluis: LiveServer, session: Session) -> None:
    email = new_resident(kluis)
    result = session.log_in(email)

    request = session.rp.logout(result["state"], post_logout_redirect_uri=SIGNED_OUT)
    params = httpx.URL(request["url"]).params
    assert params["id_token_hint"] and params["state"]
    final, confirmed = forms.logout(
        session.http, request["url"], post_logout_redirect_uri=SIGNED_OUT
    )
    assert not confirmed and final.params["state"] == params["state"]

    url = session.rp.begin(issuer_id=kluis.url, req_args={"prompt": "none"})
    back = forms.authorize(session.http, url, redirect_uri=REDIRECT_URI, interactive=False)
    assert back.callback_url.params["error"] == "login_required"


def test_idpyoidc_verifies_a_back_channel_logout_and_finds_its_session(
    kluis: LiveServer, session: Session, back_channel: BackChannel
) -> None:
    email = new_resident(kluis)
    result = session.log_in(email)
    rp_client = session.rp.issuer2rp[kluis.url]
    ended: list[str] = []
    back_channel.on_logout = lambda body: ended.append(backchannel_logout(rp_client, body))
    try:
        log_out_at_kluis(session.http, kluis)
        wait_for(lambda: bool(ended), timeout=10.0, what="Kluis's logout token")
    finally:
        back_channel.on_logout = None
    # idpyoidc checked the token (signature, iss, aud, events, no nonce) and found the session
    assert ended == [result["state"]]
