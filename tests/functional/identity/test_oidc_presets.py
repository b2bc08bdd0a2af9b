"""`kluis clients add --preset …`: each preset's client against what that platform's plug-in
documents and sends (callback path, token endpoint authentication, scopes, PKCE or nonce),
walked through Kluis's authorize, consent and token endpoints in-process as the plug-in would.
The plug-ins that run here are also proven end to end: apache by tests/e2e/platforms/
test_apache.py (mod_auth_openidc), decidim, consul and mastodon by test_omniauth.py
(omniauth_openid_connect)."""

from __future__ import annotations

import dataclasses
import json
import secrets
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm
from sqlalchemy.orm import Session

from identity.oidc.cli import clients_cli
from identity.oidc.presets import PRESETS
from service.runtime import Runtime
from tests.support.oidc import consent, make_resident, pkce_pair, query_of

ISSUER = "http://testserver"
BASE = "https://platform.example.nl"
RESIDENT = {"email": "bewoner@example.org", "name": "Klaas Vaessen"}  # tests.support.oidc's


@dataclasses.dataclass(frozen=True)
class PlugIn:
    """What a platform's plug-in documents or sends, written down from its docs and source
    independently of the preset table."""

    base: str
    redirect_uri: str
    auth_method: str  # how it authenticates at the token endpoint
    scope: str  # what it asks for
    pkce: bool  # sends a code_challenge
    nonce: bool  # sends a nonce
    backchannel_logout_uri: str | None = None
    post_logout: bool = True  # does RP-initiated logout with a post_logout_redirect_uri
    extra: tuple[tuple[str, str], ...] = ()  # further authorization request parameters
    id_token_claims: tuple[str, ...] = ()  # claims it reads from the ID token itself


# user_oidc (LoginController::login) asks for its mapped attributes by the claims parameter,
# quota and groups included, and provisions the user from the ID token.
USER_OIDC_CLAIMS = json.dumps(
    {
        member: {"email": None, "name": None, "quota": None, "groups": None}
        for member in ("id_token", "userinfo")
    }
)


PLUG_INS = {
    # user_oidc: GET /apps/user_oidc/code; client_secret in the body; PKCE with use_pkce
    "nextcloud": PlugIn(
        BASE,
        f"{BASE}/index.php/apps/user_oidc/code",
        "client_secret_post",
        "openid email profile",
        pkce=True,
        nonce=True,
        backchannel_logout_uri=f"{BASE}/index.php/apps/user_oidc/backchannel-logout/kluis",
        extra=(("claims", USER_OIDC_CLAIMS),),
        id_token_claims=("email", "name"),
    ),
    # discourse-openid-connect: /auth/oidc/callback, auth_scheme :basic_auth, a nonce
    "discourse": PlugIn(
        BASE, f"{BASE}/auth/oidc/callback", "client_secret_basic", "openid email profile",
        pkce=False, nonce=True,
    ),
    # omniauth_openid_connect under Devise (/users/auth), named openid_connect
    "decidim": PlugIn(
        BASE, f"{BASE}/users/auth/openid_connect/callback", "client_secret_basic",
        "openid email profile", pkce=False, nonce=True,
    ),
    # Consul Democracy's OIDC login: the same strategy named :oidc
    "consul": PlugIn(
        BASE, f"{BASE}/users/auth/oidc/callback", "client_secret_basic", "openid email profile",
        pkce=False, nonce=True,
    ),
    # Mastodon: Devise under /auth, OIDC_CLIENT_AUTH_METHOD defaults to basic
    "mastodon": PlugIn(
        BASE, f"{BASE}/auth/auth/openid_connect/callback", "client_secret_basic",
        "openid email profile", pkce=False, nonce=True,
    ),
    # OpenStad's oidc adapter with PKCE (branch feat/yivi-https-local): {API_URL}/auth/
    # digest-login, secret and verifier in a form body, no nonce and no state
    "openstad": PlugIn(
        BASE, f"{BASE}/auth/digest-login", "client_secret_post", "openid email profile",
        pkce=True, nonce=False, post_logout=False,
    ),
    # mod_auth_openidc: OIDCRedirectURI inside the protected location, ?logout=backchannel
    "apache": PlugIn(
        f"{BASE}/app/", f"{BASE}/app/redirect_uri", "client_secret_basic",
        "openid email profile", pkce=True, nonce=True,
        backchannel_logout_uri=f"{BASE}/app/redirect_uri?logout=backchannel",
    ),
}  # fmt: skip


def run(runtime: Runtime, *args: str) -> Any:
    return CliRunner().invoke(clients_cli, ["add", *args], obj=runtime)


def add(runtime: Runtime, *args: str) -> dict[str, Any]:
    result = run(runtime, *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def log_in_as_the_plug_in(
    browser: TestClient, client: dict[str, Any], plug_in: PlugIn
) -> dict[str, Any]:
    """The plug-in's authorization request and code exchange; returns the token response."""
    verifier, challenge = pkce_pair()
    nonce = secrets.token_hex(8)
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": plug_in.redirect_uri,
        "scope": plug_in.scope,
        "state": secrets.token_hex(8),
    }
    if plug_in.pkce:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    if plug_in.nonce:
        params["nonce"] = nonce
    params |= dict(plug_in.extra)
    response = browser.get("/authorize", params=params, follow_redirects=False)
    assert response.status_code == 302, response.text
    answer = consent(browser, response.headers["location"], ["email", "name"])
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(plug_in.redirect_uri + "?")
    code = query_of(answer.headers["location"])["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": plug_in.redirect_uri}
    if plug_in.pkce:
        form["code_verifier"] = verifier
    auth = None
    if plug_in.auth_method == "client_secret_post":
        form |= {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    else:
        auth = (client["client_id"], client["client_secret"])
    tokens = browser.post("/token", data=form, auth=auth)
    assert tokens.status_code == 200, tokens.text
    body: dict[str, Any] = tokens.json()
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["aud"] == client["client_id"] and claims["iss"] == ISSUER
    assert claims.get("nonce") == (nonce if plug_in.nonce else None)
    assert {"email": claims.get("email"), "name": claims.get("name")} == {
        name: RESIDENT[name] if name in plug_in.id_token_claims else None
        for name in ("email", "name")
    }
    return body


@pytest.mark.parametrize("name", sorted(PLUG_INS))
def test_each_preset_registers_what_its_plug_in_sends_and_logs_in_as_it(
    name: str, runtime: Runtime, session: Session, client: TestClient
) -> None:
    plug_in = PLUG_INS[name]
    created = add(runtime, "--preset", name, "--base-url", plug_in.base)

    assert plug_in.redirect_uri in created["redirect_uris"]
    assert created["token_endpoint_auth_method"] == plug_in.auth_method
    assert set(plug_in.scope.split()) <= set(created["scope"].split())
    assert created["backchannel_logout_uri"] == plug_in.backchannel_logout_uri
    assert bool(created["post_logout_redirect_uris"]) == plug_in.post_logout
    assert created["subject_type"] == "pairwise"
    assert created["id_token_signed_response_alg"] == "RS256"
    assert "offline_access" not in created["scope"] and "steward" not in created["scope"]
    platform = created["platform"]
    assert platform["preset"] == name
    assert platform["discovery_url"] == ISSUER + "/.well-known/openid-configuration"
    assert platform["client_id"] == created["client_id"]
    assert platform["client_secret"] == created["client_secret"]
    assert platform["claim_mapping"] and platform["instructions"]

    make_resident(runtime, session, client)
    tokens = log_in_as_the_plug_in(client, created, plug_in)
    userinfo = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert {"email": userinfo["email"], "name": userinfo["name"]} == RESIDENT


def test_every_preset_has_a_plug_in_check() -> None:
    assert set(PLUG_INS) == set(PRESETS)


def test_the_printed_settings_name_the_plug_ins_own_settings(runtime: Runtime) -> None:
    nextcloud = add(runtime, "--preset", "nextcloud", "--base-url", BASE)
    occ = "\n".join(nextcloud["platform"]["occ"])
    assert "occ user_oidc:provider kluis" in occ
    assert f'--clientid="{nextcloud["client_id"]}"' in occ
    assert f'--clientsecret="{nextcloud["client_secret"]}"' in occ
    assert f'--discoveryuri="{ISSUER}/.well-known/openid-configuration"' in occ

    discourse = add(runtime, "--preset", "discourse", "--base-url", BASE)["platform"]
    assert discourse["site_settings"]["openid_connect_authorize_scope"] == "openid email profile"
    assert discourse["site_settings"]["openid_connect_rp_initiated_logout_redirect"] == BASE + "/"

    mastodon = add(runtime, "--preset", "mastodon", "--base-url", BASE)["platform"]
    assert mastodon["env"]["OIDC_REDIRECT_URI"] == f"{BASE}/auth/auth/openid_connect/callback"
    assert mastodon["env"]["OIDC_SCOPE"] == "openid,email,profile"
    assert mastodon["env"]["OIDC_UID_FIELD"] == "sub"

    openstad = add(runtime, "--preset", "openstad", "--base-url", BASE)["platform"]
    provider = openstad["auth_provider"]
    assert provider["pkceEnabled"] is True
    assert provider["serverExchangeContentType"] == "application/x-www-form-urlencoded"

    apache = add(runtime, "--preset", "apache", "--base-url", BASE + "/app/")["platform"]
    assert f"OIDCRedirectURI {BASE}/app/redirect_uri" in apache["directives"]
    assert apache["location"] == "/app/"


def test_text_output_prints_the_client_and_the_platform_settings(runtime: Runtime) -> None:
    result = run(runtime, "--preset", "nextcloud", "--base-url", BASE)
    assert result.exit_code == 0, result.output
    assert "client_secret" in result.output
    assert "On the platform's side (Nextcloud" in result.output
    assert f"base URL        {BASE} (should be Nextcloud's address" in result.output
    assert "occ user_oidc:provider kluis" in result.output
    assert "Note:" not in result.output  # nothing in Nextcloud's set-up depends on its version
    discourse = run(runtime, "--preset", "discourse", "--base-url", BASE)
    assert "Note: The setting openid_connect_use_pkce exists only in newer" in discourse.output


def test_options_beside_a_preset_win(runtime: Runtime) -> None:
    created = add(
        runtime,
        *("--preset", "nextcloud", "--base-url", BASE),
        *("--name", "Gemeentecloud", "--auth-method", "client_secret_basic"),
        *("--redirect-uri", f"{BASE}/custom/callback", "--scope", "openid email"),
        *("--post-logout-redirect-uri", f"{BASE}/bye", "--id-token-alg", "ES256"),
        *("--purpose", "Bestanden delen"),
    )
    assert created["client_name"] == "Gemeentecloud"
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert created["redirect_uris"] == [f"{BASE}/custom/callback"]
    assert created["post_logout_redirect_uris"] == [f"{BASE}/bye"]
    assert created["scope"] == "openid email"
    assert created["id_token_signed_response_alg"] == "ES256"
    assert created["purpose"] == "Bestanden delen"
    # what was not overridden still comes from the preset
    assert created["backchannel_logout_uri"].endswith("/backchannel-logout/kluis")
    assert created["platform"]["client_id"] == created["client_id"]


def test_a_public_client_beside_a_preset_has_no_secret(runtime: Runtime) -> None:
    created = add(runtime, "--preset", "apache", "--base-url", BASE, "--public")
    assert created["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in created and created["platform"]["client_secret"] is None


def test_a_client_with_its_own_keys_beside_a_preset_uses_private_key_jwt(
    runtime: Runtime, tmp_path: Path
) -> None:
    # user_oidc can authenticate with a private key JWT (--use-private-key-jwt=1)
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [ECAlgorithm.to_jwk(public, as_dict=True)]}))
    created = add(runtime, "--preset", "nextcloud", "--base-url", BASE, "--jwks-file", str(jwks))
    assert created["token_endpoint_auth_method"] == "private_key_jwt"
    assert "client_secret" not in created


def test_steward_tool_beside_a_preset_adds_the_steward_scope(runtime: Runtime) -> None:
    created = add(runtime, "--preset", "apache", "--base-url", BASE, "--steward-tool")
    assert created["scope"].split()[-1] == "steward"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nextcloud"], "--preset needs --base-url"),
        (["--preset", "nextcloud", "--base-url", "http://cloud.example.nl"], "https"),
        (["--preset", "nextcloud", "--base-url", "cloud.example.nl"], "absolute"),
        (["--preset", "nextcloud", "--base-url", f"{BASE}/?x=1"], "query"),
        (["--preset", "wordpress", "--base-url", BASE], "wordpress"),
        (["--name", "Zonder adres"], "--redirect-uri"),
        (["--redirect-uri", f"{BASE}/cb"], "--name"),
    ],
)
def test_bad_preset_input_is_refused_and_registers_nothing(
    runtime: Runtime, args: list[str], message: str
) -> None:
    result = run(runtime, *args)
    assert result.exit_code != 0 and message in result.output
    listed = CliRunner().invoke(clients_cli, ["list", "--json"], obj=runtime)
    assert json.loads(listed.output) == []
