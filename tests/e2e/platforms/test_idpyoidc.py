"""idpyoidc (PyPI), an RP library independent of Kluis, Authlib and panva's openid-client, as a
relying party of a real `kluis serve` (tests/support/idpyoidc_rp.py): discovery, a static
client, the code flow with PKCE and nonce through Kluis's login and consent pages, the ID token
verified by idpyoidc against Kluis's JWKS, UserInfo with only the consented claims, refresh with
rotation, and RP-initiated logout with the ID token as hint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import forms
from tests.support.idpyoidc_rp import as_dict, rp_handler
from tests.support.live_kluis import add_client
from tests.support.platforms import (
    PASSWORD,
    RESIDENT_NAME,
    browser,
    new_resident,
)
from tests.support.server import LiveServer

BASE = "http://127.0.0.1:9/idpy"  # the RP's own pages are never visited: nothing listens
REDIRECT_URI = BASE + "/callback"
SIGNED_OUT = BASE + "/signed-out"


@pytest.fixture(scope="module")
def client(kluis: LiveServer) -> dict[str, Any]:
    return add_client(kluis, "Buurtapp (idpyoidc)", REDIRECT_URI, SIGNED_OUT)


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
