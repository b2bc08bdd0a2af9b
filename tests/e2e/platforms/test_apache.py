"""Apache httpd + mod_auth_openidc (Debian's packages, unchanged) in front of an application, as
a relying party of a real `kluis serve`: the resident logs in through Kluis's login and consent
pages, the application behind Apache receives exactly the consented claims as OIDC_CLAIM_*
headers, the module refreshes its tokens, and both kinds of logout end the Apache session:
RP-initiated from Apache, and back-channel when the resident logs out at Kluis itself.

The client is registered with `kluis clients add --preset apache`, and Apache runs the
directives that command printed (docs/platforms/apache.md, tests/support/apache_rp.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import forms
from tests.support.apache_rp import ApacheSite, new_site, oidc_directives, run_apache
from tests.support.platforms import (
    HeaderEcho,
    add_preset_client,
    browser,
    log_in_at_platform,
    log_out_at_kluis,
    new_resident,
    wait_for,
)
from tests.support.server import LiveServer

UNICODE_NAME = "Eliëlle Ørsted"


@pytest.fixture(scope="module")
def app() -> Iterator[HeaderEcho]:
    echo = HeaderEcho()
    yield echo
    echo.close()


@pytest.fixture(scope="module")
def site() -> ApacheSite:
    return new_site()


@pytest.fixture(scope="module")
def client(kluis: LiveServer, site: ApacheSite) -> dict[str, Any]:
    """Registered as an operator would: `kluis clients add --preset apache`."""
    client = add_preset_client(kluis, "apache", site.app)
    assert client["redirect_uris"] == [site.redirect_uri]
    assert client["post_logout_redirect_uris"] == [site.logged_out]
    assert client["backchannel_logout_uri"] == site.backchannel_logout_uri
    assert client["platform"]["location"] == "/app/"
    return client


@pytest.fixture(scope="module")
def apache(
    kluis: LiveServer,
    app: HeaderEcho,
    site: ApacheSite,
    client: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApacheSite]:
    directives = oidc_directives(client["platform"]["directives"])
    with run_apache(site, tmp_path_factory.mktemp("apache"), app.url, directives):
        yield site


def log_in(kluis: LiveServer, apache: ApacheSite, http: httpx.Client, email: str) -> Any:
    page, walked = log_in_at_platform(
        http,
        forms.Submission("GET", apache.app + "page"),
        kluis=kluis,
        redirect_uri=apache.redirect_uri,
        email=email,
        claims_to_allow=["email", "name"],
    )
    assert walked.pages == ["login", "consent"]
    assert page.status_code == 200, forms.page_text(page.text)
    return page.json()


def info(http: httpx.Client, apache: ApacheSite, **params: str) -> httpx.Response:
    return http.get(apache.redirect_uri, params={"info": "json", **params})


def test_apache_passes_exactly_the_consented_claims_to_the_app_behind(
    kluis: LiveServer, apache: ApacheSite
) -> None:
    email = new_resident(kluis, name=UNICODE_NAME)
    with browser() as http:
        # A forged claim header from the browser never reaches the application.
        http.headers["OIDC_CLAIM_email"] = "mallory@example.org"
        seen = log_in(kluis, apache, http, email)
        headers = {k.lower(): v for k, v in seen["headers"].items()}
        assert seen["path"] == "/app/page"
        assert headers["oidc_claim_email"] == email
        assert headers["oidc_claim_email_verified"] == "1"
        # passed as UTF-8 bytes; HTTP servers (here Python's) read header bytes as ISO-8859-1
        assert headers["oidc_claim_name"].encode("latin-1").decode() == UNICODE_NAME
        assert headers["oidc_claim_iss"] == kluis.url
        sub = headers["oidc_claim_sub"]
        assert len(sub) >= 32 and email not in sub  # a pairwise pseudonym
        # preferred_username was offered (scope profile) but not ticked: it stays in Kluis
        assert "oidc_claim_preferred_username" not in headers
        assert headers["oidc_access_token"]
        # the access token is good at Kluis's userinfo, with the same subject
        userinfo = httpx.get(
            kluis.url + "/userinfo",
            headers={"Authorization": f"Bearer {headers['oidc_access_token']}"},
        ).json()
        assert userinfo["sub"] == sub and userinfo["email"] == email


def test_apache_refreshes_its_tokens_at_kluis(kluis: LiveServer, apache: ApacheSite) -> None:
    email = new_resident(kluis)
    with browser() as http:
        log_in(kluis, apache, http, email)
        before = info(http, apache).json()
        assert before["refresh_token"], before
        after = info(http, apache, access_token_refresh_interval="0").json()
        # Kluis rotates refresh tokens; the module stored the new pair
        assert after["access_token"] != before["access_token"]
        assert after["refresh_token"] != before["refresh_token"]
        userinfo = httpx.get(
            kluis.url + "/userinfo",
            headers={"Authorization": f"Bearer {after['access_token']}"},
        )
        assert userinfo.status_code == 200 and userinfo.json()["email"] == email
        # the session goes on with the new tokens
        seen = http.get(apache.app + "after-refresh").json()
        assert seen["headers"]["OIDC_access_token"] == after["access_token"]


def test_apache_logout_ends_the_kluis_session_too(kluis: LiveServer, apache: ApacheSite) -> None:
    email = new_resident(kluis)
    with browser() as http:
        log_in(kluis, apache, http, email)
        start = http.get(apache.redirect_uri, params={"logout": apache.logged_out})
        assert start.is_redirect
        end_session = str(start.url.join(start.headers["location"]))
        assert forms.same_endpoint(end_session, kluis.url + "/logout")
        assert "id_token_hint" in httpx.URL(end_session).params
        final, confirmed = forms.logout(
            http, end_session, post_logout_redirect_uri=apache.logged_out
        )
        assert not confirmed  # the hint named this very session: no question asked
        assert final.path == "/"
        # Apache asks Kluis again, and Kluis asks the resident to log in again
        again = http.get(apache.app + "page")
        assert again.is_redirect
        login = http.get(str(again.url.join(again.headers["location"])))
        assert login.is_redirect and "/login" in login.headers["location"]


def test_logging_out_at_kluis_ends_the_apache_session_by_back_channel(
    kluis: LiveServer, apache: ApacheSite
) -> None:
    email = new_resident(kluis)
    with browser() as http:
        log_in(kluis, apache, http, email)
        assert http.get(apache.app + "still-in").status_code == 200

        log_out_at_kluis(http, kluis)

        def apache_session_gone() -> bool:
            return http.get(apache.app + "still-in").is_redirect

        wait_for(apache_session_gone, what="the back-channel logout to end Apache's session")


def test_erasing_the_account_ends_the_apache_session_by_back_channel(
    kluis: LiveServer, apache: ApacheSite, client: dict[str, Any]
) -> None:
    email = new_resident(kluis)
    with browser() as http:
        log_in(kluis, apache, http, email)
        erased = json.loads(
            kluis.cli("accounts", "delete", "--email", email, "--yes", "--json").stdout
        )
        # Apache has no events_uri receiver: Kluis says so, and logs the resident out there
        assert erased["manual"] == [client["client_id"]]

        def apache_session_gone() -> bool:
            return http.get(apache.app + "still-in").is_redirect

        wait_for(
            apache_session_gone,
            timeout=5.0,  # the outbox runs every 0.2 s
            what="the erasure's logout token to end Apache's session",
        )
