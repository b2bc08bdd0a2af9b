"""End to end on a real server: a resident consents at two platforms, is erased by the
operator, and both platforms' endpoints (HTTP servers on loopback) receive verifiable SETs and
logout tokens — one platform only after it comes back and after a Kluis restart in between.
Afterwards the tokens are inactive and no file in the data directory (database, WAL, logs)
holds the resident's e-mail address, name or postcode."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from tests.support.databases import drop_database, fresh_database_url
from tests.support.server import LiveServer, free_port, run_server

EMAIL = "erik.eraser@example.org"
NAME = "Erik Wisselaar"
POSTCODE = "1087AB"
PASSWORD = "een lang en sterk wachtwoord"
PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
FAST = {"KLUIS_OUTBOX_INTERVAL": "0.2"}


class Platform:
    """A platform's receiving endpoints: /events (RFC 8935) and /backchannel (OIDC BCL)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with platform.lock:
                    platform.received.append(
                        (self.path, self.headers.get("content-type", ""), body)
                    )
                self.send_response(202 if self.path == "/events" else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.handler = Handler
        # Nothing listens until start(): a platform that is down refuses connections.
        self.port = free_port()
        self.server: http.server.ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def add_platform(
    server: LiveServer, name: str, platform: Platform, host: str = "127.0.0.1"
) -> dict[str, Any]:
    """A platform on its own sector (`host` of its redirect URI), so its own pairwise subs."""
    out = server.cli(
        "clients",
        "add",
        "--name",
        name,
        "--redirect-uri",
        f"http://{host}:{platform.port}/cb",
        "--events-uri",
        f"{platform.base}/events",
        "--backchannel-logout-uri",
        f"{platform.base}/backchannel",
        "--json",
    )
    client: dict[str, Any] = json.loads(out.stdout)
    return client


def log_in(browser: httpx.Client) -> None:
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = browser.post(
        "/login",
        data={"email": EMAIL, "password": PASSWORD, "return_to": "/", "csrf_token": token.group(1)},
    )
    assert response.status_code == 303, response.text


def sign_in_at(browser: httpx.Client, client: dict[str, Any], redirect: str) -> dict[str, Any]:
    """Authorization code flow with PKCE and consent to e-mail and name; returns tokens."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": redirect,
        "scope": "openid email profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    location = browser.get("/authorize", params=params).headers["location"]
    page = browser.get(location)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form = [(k, v) for k, v in hidden.items() if k != "claims"]
    form += [("claims", "email"), ("claims", "name"), ("decision", "allow")]
    answer = browser.post(
        urlsplit(location).path,
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
    ).json()
    tokens["sub"] = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
    return dict(tokens)


def verify(token: str, jwks: dict[str, Any], issuer: str, audience: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256", "ES256"], audience=audience, issuer=issuer
    )
    return claims


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    url = fresh_database_url(tmp_path)
    try:
        yield url
    finally:
        drop_database(url)


def test_erasure_reaches_both_platforms_across_a_restart_and_leaves_nothing_readable(
    tmp_path: Path, database: str
) -> None:
    data_dir = tmp_path / "data"
    up, down = Platform(), Platform()
    up.start()
    try:
        with run_server(data_dir, database, **FAST) as server:
            issuer = server.url
            server.cli("accounts", "add", "--email", EMAIL, "--password", PASSWORD, "--name", NAME)
            server.cli(
                "attestations",
                "offer",
                "--account",
                EMAIL,
                "--type",
                "postcode",
                "--claims",
                json.dumps(
                    {
                        "postcode": POSTCODE,
                        "municipality": {"code": "GM0363", "name": "Amsterdam"},
                        "residence_source": "letter",
                    }
                ),
            )
            a, b = (
                add_platform(server, "Buurt", up),
                add_platform(server, "Stem", down, "localhost"),
            )
            with httpx.Client(base_url=issuer, timeout=15) as browser:
                log_in(browser)
                tokens = {
                    c["client_id"]: sign_in_at(browser, c, c["redirect_uris"][0]) for c in (a, b)
                }
            jwks = httpx.get(issuer + "/jwks.json").json()
            done = server.cli(
                "accounts",
                "delete",
                "--email",
                EMAIL,
                "--yes",
                "--reason",
                "verzoek aan de balie",
                "--json",
            )
            request_id = json.loads(done.stdout)["id"]
            wait_for(lambda: len(up.received) == 2)  # SET + logout token at the live platform
            for client in (a, b):
                for kind in ("access_token", "refresh_token"):
                    answer = httpx.post(
                        issuer + "/introspect",
                        data={"token": tokens[client["client_id"]][kind]},
                        auth=(client["client_id"], client["client_secret"]),
                    )
                    assert answer.json() == {"active": False}
            shown = json.loads(server.cli("erasure", "show", request_id, "--json").stdout)
            assert shown["status"] == "propagating"
        # Kluis restarts while platform B is still down; B comes back afterwards.
        down.start()
        with run_server(data_dir, database, **FAST) as server:
            wait_for(lambda: len(down.received) == 2, timeout=30)

            def completed() -> bool:
                out = server.cli("erasure", "show", request_id, "--json").stdout
                return bool(json.loads(out)["status"] == "completed")

            wait_for(completed, timeout=30)
            log = server.log()
    finally:
        up.stop()
        down.stop()

    for platform, client in ((up, a), (down, b)):
        by_path = {path: (ctype, body) for path, ctype, body in platform.received}
        ctype, body = by_path["/events"]
        assert ctype == "application/secevent+jwt"
        assert jwt.get_unverified_header(body.decode())["typ"] == "secevent+jwt"
        claims = verify(body.decode(), jwks, issuer, client["client_id"])
        sub = tokens[client["client_id"]]["sub"]
        assert claims["sub_id"] == {"format": "iss_sub", "iss": issuer, "sub": sub}
        assert PURGED in claims["events"]
        _, logout = by_path["/backchannel"]
        logout_token = parse_qs(logout.decode())["logout_token"][0]
        assert verify(logout_token, jwks, issuer, client["client_id"])["sub"] == sub
    assert tokens[a["client_id"]]["sub"] != tokens[b["client_id"]]["sub"]

    assert EMAIL not in log and NAME not in log
    needles = [s.encode() for s in (EMAIL, NAME, POSTCODE, "Wisselaar")]
    for path in data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found = [n for n in needles if n in content]
            assert not found, f"{path.name} holds {found}"
