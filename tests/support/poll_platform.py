"""A community platform's poll as it talks to a real Kluis (tests/support/server.py), and a
resident's phone browser walking the built-in wallet's pages over plain HTTP (httpx, no
JavaScript), the way tests/support/forms.py walks the login pages.

The platform authenticates with `client_secret_basic`, starts verification sessions with a
`poll_id`, shows the pairing code its status API gives, reads the result JWT (checked against
`/jwks.json`, `aud` = its client id) and sends paper votes with a letter's code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
import jwt

from tests.support import forms
from tests.support.server import LiveServer

HTTP_TIMEOUT_S = 30.0


def letter_poll_query(issuer: str) -> dict[str, Any]:
    """DCQL for a poll counted per letter: the postcode area, and `residence_source` must be
    `letter`, so that a resident who also holds a registry or desk proof cannot vote twice
    (docs/platform-api.md, "Per-poll pseudonyms")."""
    return {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [f"{issuer}/vct/postcode"]},
                "claims": [
                    {"path": ["postcode_area"]},
                    {"path": ["residence_source"], "values": ["letter"]},
                ],
            }
        ]
    }


@dataclass(frozen=True)
class PollPlatform:
    issuer: str
    client_id: str
    client_secret: str
    purpose: str

    @classmethod
    def register(
        cls, server: LiveServer, name: str, redirect_uri: str, purpose: str
    ) -> PollPlatform:
        args = ["clients", "add", "--name", name, "--redirect-uri", redirect_uri, "--json"]
        created = json.loads(server.cli(*args).stdout)
        return cls(server.url, created["client_id"], created["client_secret"], purpose)

    @property
    def auth(self) -> tuple[str, str]:
        return self.client_id, self.client_secret

    def start(self, poll_id: str) -> dict[str, Any]:
        body = {
            "purpose": self.purpose,
            "poll_id": poll_id,
            "dcql_query": letter_poll_query(self.issuer),
        }
        response = httpx.post(f"{self.issuer}/verifier/sessions", json=body, auth=self.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def status(self, created: dict[str, Any], wait: float = 0) -> dict[str, Any]:
        params = {"wait": str(wait)} if wait else {}
        response = httpx.get(
            created["status_url"], params=params, auth=self.auth, timeout=HTTP_TIMEOUT_S
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def pairing_code(self, created: dict[str, Any]) -> str:
        """What the platform shows next to its QR code once a phone opened the link."""
        body = self.status(created)
        assert body["status"] == "scanned", body
        code: str = body["pairing_code"]
        return code

    def result(self, created: dict[str, Any]) -> dict[str, Any]:
        """Wait for the presentation and read the signed result."""
        body = self.status(created, wait=10)
        assert body["status"] == "done", body
        token = body["result"]
        jwks = httpx.get(f"{self.issuer}/jwks.json").json()
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(k for k in jwks["keys"] if k["kid"] == kid)
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt.PyJWK(key).key,
            algorithms=["ES256"],
            audience=self.client_id,
            issuer=self.issuer,
        )
        return claims

    def cancel(self, created: dict[str, Any]) -> dict[str, Any]:
        response = httpx.delete(created["status_url"], auth=self.auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def paper_vote(self, code: str, poll_id: str) -> httpx.Response:
        return httpx.post(
            f"{self.issuer}/letters/votes",
            json={"code": code, "poll_id": poll_id},
            auth=self.auth,
            timeout=HTTP_TIMEOUT_S,
        )


def phone(server: LiveServer) -> httpx.Client:
    """A resident's browser: its own cookie jar, English pages, no redirects followed."""
    return httpx.Client(
        base_url=server.url, timeout=HTTP_TIMEOUT_S, headers={"Accept-Language": "en"}
    )


def log_in(browser: httpx.Client, login_url: str, email: str, password: str) -> httpx.Response:
    """Fill in the login form at `login_url` (which may carry a `return_to`)."""
    submission = forms.prepared(browser, login_url, {"email": email, "password": password})
    response = forms.send(browser, submission)
    assert response.status_code == 303, response.text
    return response


def form_by_id(page: httpx.Response, form_id: str) -> forms.Form:
    [form] = [f for f in forms.parse_forms(page.text, str(page.url)) if f.id == form_id]
    return form


def open_and_pair(browser: httpx.Client, platform: PollPlatform, created: dict[str, Any]) -> str:
    """Open the platform's universal link in the logged-in phone, type the pairing code the
    platform's screen shows; returns the wallet page of the session."""
    opened = browser.get(created["universal_link"])
    assert opened.status_code == 303, opened.text
    page = urljoin(str(opened.url), opened.headers["location"])
    assert page.endswith(f"/wallet/sessions/{created['session_id']}")
    code = platform.pairing_code(created)
    paired = forms.send(browser, forms.prepared(browser, page, {"code": code}))
    assert paired.status_code == 303 and paired.headers["location"].endswith(
        f"/wallet/sessions/{created['session_id']}"
    ), paired.text
    return page


def decide(browser: httpx.Client, page: str, decision: str = "allow") -> httpx.Response:
    """Press a button of the wallet page's decision form."""
    shown = browser.get(page)
    form = form_by_id(shown, "decision-form")
    return forms.send(
        browser, forms.Submission("POST", form.action, [*form.hidden(), ("decision", decision)])
    )
