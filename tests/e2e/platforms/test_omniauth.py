"""omniauth_openid_connect (Debian's ruby-omniauth-openid-connect, the strategy Decidim, Consul,
Mastodon and GitLab log in with) in a minimal Rack platform (tests/support/omniauth_rp/
platform.rb, on WEBrick), unchanged, as a relying party of a real `kluis serve`: discovery, the
resident's login and consent at Kluis, the claims in the omniauth auth hash, and the strategy's
logout through Kluis's end-session endpoint.

Each platform is registered with `kluis clients add --preset decidim|consul|mastodon` and runs
the strategy with the options that command printed, under that platform's own omniauth path
(Decidim /users/auth/openid_connect, Consul Democracy /users/auth/oidc, Mastodon
/auth/auth/openid_connect): so each of these presets is proven by the real strategy.

The strategy sends a nonce but no PKCE, and logs out with only a post_logout_redirect_uri (no
id_token_hint, no client_id); Kluis accepts both as the specifications allow (RFC 9700 §2.1.1,
RP-Initiated Logout 1.0 §2). It has no back-channel logout and does not refresh tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import forms
from tests.support.platforms import (
    RESIDENT_NAME,
    add_preset_client,
    browser,
    foreground,
    log_in_at_platform,
    new_resident,
    require_program,
)
from tests.support.server import LiveServer, free_port

APT_PACKAGES = "ruby ruby-omniauth-openid-connect ruby-rack ruby-webrick"
PLATFORM = Path(__file__).parents[2] / "support" / "omniauth_rp" / "platform.rb"


PRESETS = ("decidim", "consul", "mastodon")


class Platform:
    def __init__(self, port: int, client: dict[str, Any]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.client = client
        self.prefix = client["platform"]["omniauth"]["path_prefix"]
        self.options = client["platform"]["omniauth"]["options"]
        self.name = self.options["name"]
        self.redirect_uri = self.options["client_options"]["redirect_uri"]
        self.signed_out = self.options["post_logout_redirect_uri"]


@pytest.fixture(scope="module", params=PRESETS)
def platform(
    request: pytest.FixtureRequest, kluis: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    ruby = require_program("ruby", APT_PACKAGES)
    port = free_port()
    site = Platform(port, add_preset_client(kluis, request.param, f"http://127.0.0.1:{port}"))
    assert site.client["redirect_uris"] == [site.redirect_uri]
    assert site.redirect_uri == f"{site.base}{site.prefix}/{site.name}/callback"
    assert site.client["post_logout_redirect_uris"] == [site.signed_out]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path_factory.mktemp("ruby-home")),
        "OMNIAUTH_OPTIONS": json.dumps(site.options),
        "PATH_PREFIX": site.prefix,
        "PORT": str(port),
    }
    log = tmp_path_factory.mktemp("omniauth") / "platform.log"
    with foreground([ruby, str(PLATFORM)], port=port, log=log, what="the Rack platform", env=env):
        yield site


def sign_in(kluis: LiveServer, platform: Platform, http: httpx.Client, email: str) -> Any:
    home = http.get(platform.base + "/")
    [button] = [f for f in forms.parse_forms(home.text, str(home.url)) if f.id == "sign-in"]
    page, walked = log_in_at_platform(
        http,
        forms.Submission(button.method, button.action, button.hidden()),
        kluis=kluis,
        redirect_uri=platform.redirect_uri,
        email=email,
        claims_to_allow=["email", "name"],
    )
    assert walked.pages == ["login", "consent"]
    assert page.status_code == 200, page.text
    return page.json()


def test_omniauth_platform_gets_the_consented_claims_in_the_auth_hash(
    kluis: LiveServer, platform: Platform
) -> None:
    email = new_resident(kluis)
    with browser() as http:
        user = sign_in(kluis, platform, http, email)

    assert user["signed_in"] and user["provider"] == platform.name
    assert user["info"]["email"] == email and user["info"]["name"] == RESIDENT_NAME
    assert user["info"]["email_verified"] is True
    raw = user["raw_info"]
    assert raw["iss"] == kluis.url and raw["sub"] == user["uid"]
    assert len(user["uid"]) >= 32 and email not in user["uid"]  # a pairwise pseudonym
    # preferred_username (omniauth's "nickname") was offered but not ticked
    assert "nickname" not in user["info"] and "preferred_username" not in raw
    assert user["credentials"]["has_token"] and user["credentials"]["has_refresh_token"]


def test_omniauth_logout_ends_the_kluis_session(kluis: LiveServer, platform: Platform) -> None:
    email = new_resident(kluis)
    with browser() as http:
        sign_in(kluis, platform, http, email)
        out = http.post(platform.base + "/sign-out")
        assert out.is_redirect
        strategy_logout = http.get(str(out.url.join(out.headers["location"])))
        end_session = str(strategy_logout.url.join(strategy_logout.headers["location"]))
        assert forms.same_endpoint(end_session, kluis.url + "/logout")
        final, confirmed = forms.logout(
            http, end_session, post_logout_redirect_uri=platform.signed_out
        )
        # Without an id_token_hint Kluis asks the resident before it ends the session.
        assert confirmed and str(final) == platform.signed_out
        assert http.get(platform.base + "/me").status_code == 401
        # Signing in again needs the password again: the Kluis session is over.
        home = http.get(platform.base + "/")
        [button] = [f for f in forms.parse_forms(home.text, str(home.url)) if f.id == "sign-in"]
        to_kluis = forms.send(http, forms.Submission(button.method, button.action, button.hidden()))
        at_kluis = http.get(str(to_kluis.url.join(to_kluis.headers["location"])))
        assert at_kluis.is_redirect and "/login" in at_kluis.headers["location"]
