"""mozilla-django-oidc (PyPI) in a minimal Django project (tests/support/django_rp/, served by
`python -m django runserver`), unchanged, as a relying party of a real `kluis serve`: login
through Kluis's login and consent pages (code flow with PKCE and nonce), the Django user created
from the claims and found again by its pairwise `sub`, RP-initiated logout that ends the Kluis
session too, and the library's session renewal (a silent prompt=none round trip), which also
notices when the resident has logged out at Kluis.

mozilla-django-oidc has no back-channel logout and no refresh-token grant: its SessionRefresh
middleware is how it keeps in step with Kluis."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import forms
from tests.support.live_kluis import add_client
from tests.support.platforms import (
    RESIDENT_NAME,
    browser,
    follow,
    foreground,
    log_in_at_platform,
    log_out_at_kluis,
    new_resident,
)
from tests.support.server import LiveServer, free_port

ROOT = Path(__file__).parents[3]
RENEW_AFTER_S = 2  # OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS, short so the test sees a renewal


class Platform:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.redirect_uri = f"{self.base}/oidc/callback/"
        self.signed_out = f"{self.base}/signed-out/"


@pytest.fixture(scope="module")
def platform(kluis: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    work = tmp_path_factory.mktemp("django")
    port = free_port()
    site = Platform(port)
    # mozilla-django-oidc sends its secret in the form body by default (client_secret_post)
    client = add_client(
        kluis,
        "Buurtvereniging (Django)",
        site.redirect_uri,
        site.signed_out,
        auth_method="client_secret_post",
    )
    meta = httpx.get(kluis.url + "/.well-known/openid-configuration").json()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLUIS_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.support.django_rp.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DATABASE=str(work / "platform.sqlite3"),
        OIDC_RP_CLIENT_ID=client["client_id"],
        OIDC_RP_CLIENT_SECRET=client["client_secret"],
        OIDC_OP_AUTHORIZATION_ENDPOINT=meta["authorization_endpoint"],
        OIDC_OP_TOKEN_ENDPOINT=meta["token_endpoint"],
        OIDC_OP_USER_ENDPOINT=meta["userinfo_endpoint"],
        OIDC_OP_JWKS_ENDPOINT=meta["jwks_uri"],
        OIDC_OP_LOGOUT_ENDPOINT=meta["end_session_endpoint"],
        OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS=str(RENEW_AFTER_S),
    )
    django = [sys.executable, "-m", "django"]
    subprocess.run(
        [*django, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True, timeout=120
    )
    with foreground(
        [*django, "runserver", "--noreload", f"127.0.0.1:{port}"],
        port=port,
        log=work / "runserver.log",
        what="the Django platform",
        env=env,
        cwd=ROOT,
    ):
        yield site


def sign_in(
    kluis: LiveServer, platform: Platform, http: httpx.Client, email: str, pages: list[str]
) -> Any:
    page, walked = log_in_at_platform(
        http,
        forms.Submission("GET", platform.base + "/oidc/authenticate/"),
        kluis=kluis,
        redirect_uri=platform.redirect_uri,
        email=email,
        claims_to_allow=["email", "name"],
    )
    assert walked.pages == pages
    assert page.status_code == 200 and str(page.url) == platform.base + "/me/", page.text
    return page.json()


def test_django_creates_the_user_from_the_claims_and_finds_it_again_by_sub(
    kluis: LiveServer, platform: Platform
) -> None:
    email = new_resident(kluis)
    with browser() as http:
        user = sign_in(kluis, platform, http, email, ["login", "consent"])
    assert user["email"] == email and user["first_name"] == RESIDENT_NAME
    assert len(user["username"]) >= 32 and email not in user["username"]  # pairwise sub
    assert user["has_id_token"]

    with browser() as other_device:  # consent is remembered: only the password is asked
        again = sign_in(kluis, platform, other_device, email, ["login"])
    assert again["id"] == user["id"] and again["users"] == user["users"]


def test_django_logout_ends_the_kluis_session_too(kluis: LiveServer, platform: Platform) -> None:
    email = new_resident(kluis)
    with browser() as http:
        sign_in(kluis, platform, http, email, ["login", "consent"])
        account = http.get(platform.base + "/account/")
        logout = forms.logout_submission(forms.parse_forms(account.text, str(account.url)))
        assert logout is not None
        to_kluis = forms.send(http, logout)
        end_session = str(to_kluis.url.join(to_kluis.headers["location"]))
        assert forms.same_endpoint(end_session, kluis.url + "/logout")
        final, confirmed = forms.logout(
            http, end_session, post_logout_redirect_uri=platform.signed_out
        )
        assert not confirmed  # the id_token_hint named this session
        assert str(final) == platform.signed_out
        assert http.get(platform.base + "/me/").is_redirect  # signed out of Django
        at_kluis = follow(
            http,
            platform.base + "/oidc/authenticate/",
            stop=lambda url: "/login" in url,
        )
        assert "/login" in at_kluis.headers["location"]  # and out of Kluis


def test_django_renews_silently_and_notices_a_logout_at_kluis(
    kluis: LiveServer, platform: Platform
) -> None:
    email = new_resident(kluis)
    with browser() as http:
        first = sign_in(kluis, platform, http, email, ["login", "consent"])
        time.sleep(RENEW_AFTER_S + 0.5)
        hops: list[httpx.URL] = []
        renewed = follow(http, platform.base + "/me/", hops=hops)
        # a silent round trip through Kluis: no page, the same user
        silent = [h for h in hops if forms.same_endpoint(h, kluis.url + "/authorize")]
        assert len(silent) == 1 and silent[0].params["prompt"] == "none"
        assert renewed.status_code == 200 and renewed.json()["id"] == first["id"]

        log_out_at_kluis(http, kluis)
        time.sleep(RENEW_AFTER_S + 0.5)
        hops = []
        after = follow(http, platform.base + "/me/", hops=hops)
        # prompt=none came back with login_required: Django ended its own session
        callback = next(h for h in hops if forms.same_endpoint(h, platform.redirect_uri))
        assert callback.params["error"] == "login_required"
        assert str(after.url) == platform.signed_out
        assert http.get(platform.base + "/me/").is_redirect
