"""Kluis's OpenID provider driven end to end by two independent relying parties, panva's
openid-client (node, tests/e2e/node/rp.mjs) and Authlib (tests/support/authlib_rp.py), over real
HTTP against a real server, for every client authentication method Kluis offers: login and
consent pages, code + PKCE, ID token signature, userinfo, single sign-on, refresh rotation with
reuse detection, RP-initiated logout."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from tests.support.authlib_rp import run_authlib_flow
from tests.support.databases import drop_database, fresh_database_url
from tests.support.live_kluis import add_client, add_resident, rp_config
from tests.support.node import run_node_rp
from tests.support.server import LiveServer, run_server

REDIRECT_URI = "http://127.0.0.1:9/oidc/callback"
OTHER_SECTOR_REDIRECT_URI = "http://localhost:9/oidc/callback"
POST_LOGOUT_URI = "http://127.0.0.1:9/logged-out"
PASSWORD = "paarse olifant danst op het dak"
RP_KEY = RSAKey.generate_key(2048, parameters={"kid": "rp-1", "alg": "RS256"}, private=True)
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none", "private_key_jwt")


@pytest.fixture(scope="module")
def kluis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("kluis-rps")
    url = fresh_database_url(tmp)
    try:
        with run_server(tmp / "data", url) as server:
            yield server
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def clients(kluis: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("clients")
    jwks = {"keys": [RP_KEY.as_dict(private=False)]}
    return {
        "client_secret_basic": add_client(kluis, "Buurt basic", REDIRECT_URI, POST_LOGOUT_URI),
        "client_secret_post": add_client(
            kluis, "Buurt post", REDIRECT_URI, POST_LOGOUT_URI, auth_method="client_secret_post"
        ),
        "none": add_client(kluis, "Buurt app", REDIRECT_URI, POST_LOGOUT_URI, public=True),
        "private_key_jwt": add_client(
            kluis,
            "Buurt jwt",
            REDIRECT_URI,
            POST_LOGOUT_URI,
            auth_method="private_key_jwt",
            jwks=jwks,
            work_dir=work,
        ),
        "other-sector": add_client(
            kluis, "Andere sector", OTHER_SECTOR_REDIRECT_URI, POST_LOGOUT_URI
        ),
    }


def new_resident(kluis: LiveServer) -> str:
    # A fresh resident per session: consent is then asked exactly once.
    email = f"bewoner-{uuid.uuid4().hex[:8]}@example.org"
    add_resident(kluis, email, PASSWORD, name="Klaas Vaessen")
    return email


def config_for(
    kluis: LiveServer, client: dict[str, Any], email: str, **extra: Any
) -> dict[str, Any]:
    if client["token_endpoint_auth_method"] == "private_key_jwt":
        extra.setdefault("private_jwk", RP_KEY.as_dict(private=True))
    extra.setdefault("redirect_uri", client["redirect_uris"][0])
    return rp_config(
        kluis,
        client,
        email=email,
        password=extra.pop("password", PASSWORD),
        post_logout_redirect_uri=POST_LOGOUT_URI,
        claims_to_allow=["email"],
        **extra,
    )


@pytest.fixture(params=["openid-client", "authlib"])
def rp(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    if request.param == "authlib":
        return run_authlib_flow

    def run(config: dict[str, Any]) -> dict[str, Any]:
        report = run_node_rp(config, tmp_path)
        assert report["exit_code"] == (0 if report["ok"] else 1), report
        return report

    return run


@pytest.mark.parametrize("auth", AUTH_METHODS)
def test_independent_rp_completes_a_whole_session_releasing_only_consented_claims(
    rp: Callable[[dict[str, Any]], dict[str, Any]],
    auth: str,
    kluis: LiveServer,
    clients: dict[str, Any],
) -> None:
    email = new_resident(kluis)
    result = rp(config_for(kluis, clients[auth], email))

    assert result["ok"], result
    assert result["token_endpoint_auth_method"] == auth
    assert result["pages"] == ["login", "consent"]
    assert "name" in result["consent"]["offered"]
    assert "name" not in result["consent"]["submitted"]
    assert result["callback_iss"] == kluis.url
    claims = result["id_token"]["claims"]
    assert result["id_token"]["header"]["alg"] == "RS256"
    assert (claims["iss"], claims["aud"]) == (kluis.url, clients[auth]["client_id"])
    assert result["userinfo"]["sub"] == claims["sub"]
    assert result["userinfo"]["email"] == email
    assert "name" not in result["userinfo"]  # offered, not ticked: it stays in Kluis
    assert result["sso"] == {"straight_back": True, "same_sub": True}
    refresh = result["refresh"]
    assert refresh["rotated"] and refresh["userinfo_sub_matches"]
    assert refresh["old_token_rejected"] and refresh["old_token_error"] == "invalid_grant"
    logout = result["logout"]
    assert logout["final_url"].startswith(POST_LOGOUT_URI + "?") and logout["state_returned"]
    assert logout["session_ended"] and logout["prompt_none_error"] == "login_required"


def test_pairwise_subject_is_shared_by_rps_of_one_sector_only(
    kluis: LiveServer, clients: dict[str, Any], tmp_path: Path
) -> None:
    email = new_resident(kluis)
    by_node = run_node_rp(config_for(kluis, clients["client_secret_basic"], email), tmp_path)
    by_authlib = run_authlib_flow(config_for(kluis, clients["client_secret_post"], email))
    other = run_authlib_flow(config_for(kluis, clients["other-sector"], email))

    assert by_node["ok"] and by_authlib["ok"] and other["ok"], (by_node, by_authlib, other)
    subs = [r["id_token"]["claims"]["sub"] for r in (by_node, by_authlib, other)]
    assert subs[0] == subs[1] != subs[2]
    # consent is per platform: the second platform of the same sector asks again
    assert by_authlib["pages"] == ["login", "consent"]


def test_independent_rp_is_refused_with_a_wrong_password(
    rp: Callable[[dict[str, Any]], dict[str, Any]], kluis: LiveServer, clients: dict[str, Any]
) -> None:
    email = new_resident(kluis)
    result = rp(
        config_for(kluis, clients["client_secret_basic"], email, password="niet het wachtwoord")
    )

    assert not result["ok"]
    assert result["error"]["step"] == "authorize"
    assert result["error"]["message"] == "login was rejected"
