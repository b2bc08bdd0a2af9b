"""End to end on a real server: a resident registers on the web (mail goes to the outbox),
signs in at two platforms through an independent relying party (Authlib, tests/support/
authlib_rp.py, each with its own browser), withdraws one field at one platform (the RP's next
UserInfo call lacks it, and the platform receives a CAEP token-claims-change SET), then deletes
their account. Both platforms' endpoints (HTTP servers on loopback) receive verifiable SETs
and logout tokens — one platform only after it comes back and after a Kluis restart in
between. Afterwards the tokens are inactive and no file of the service (database and its WAL,
data directory, mail outbox, logs) holds the resident's e-mail address, name or postcode."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from adapters.mail import read_outbox
from tests.support.authlib_rp import AuthlibSession
from tests.support.server import LiveServer, free_port, run_server

EMAIL = "erik.eraser@example.org"
NAME = "Erik Wisselaar"
POSTCODE = "1087AB"
PASSWORD = "een lang en sterk wachtwoord"
PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
CLAIMS_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/token-claims-change"
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


def form_of(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def register_and_verify(browser: httpx.Client, outbox: Path) -> None:
    """Register on the web and follow the link in the verification mail from the outbox."""
    page = browser.get("/register")
    form = {**form_of(page.text), "email": EMAIL, "password": PASSWORD, "name": NAME}
    assert browser.post("/register", data=form).status_code == 303
    (mail,) = read_outbox(outbox)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"https?://\S+/verify-email\?\S+", body.get_content())
    assert link, "no verification link in the mail"
    verified = browser.get(urlsplit(link.group(0))._replace(scheme="", netloc="").geturl())
    assert verified.status_code == 303, verified.text  # 400 when the token is refused


def log_in(browser: httpx.Client) -> None:
    page = browser.get("/login")
    form = {**form_of(page.text), "email": EMAIL, "password": PASSWORD, "return_to": "/"}
    assert browser.post("/login", data=form).status_code == 303


def sign_in_at(issuer: str, client: dict[str, Any]) -> tuple[AuthlibSession, dict[str, Any]]:
    """The platform's own RP (Authlib) signs the resident in, with consent to e-mail and name;
    returns the RP session (kept open for later UserInfo calls) and its verified tokens."""
    config = {
        "issuer": issuer,
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "redirect_uri": client["redirect_uris"][0],
        "email": EMAIL,
        "password": PASSWORD,
        "claims_to_allow": ["email", "name"],
    }
    rp = AuthlibSession(config, {"steps": []})
    rp.discover()
    url, checks = rp.authorization_request()
    walked = rp.walk(url)
    assert walked.pages == ["login", "consent"]
    tokens = rp.exchange(walked.callback_url, checks)
    tokens["sub"] = tokens["id_token_claims"]["sub"]
    return rp, tokens


def withdraw(browser: httpx.Client, client_id: str, claim: str) -> None:
    page = browser.get("/account/consents")
    form = {**form_of(page.text), "client_id": client_id, "claim": claim}
    answer = browser.post("/account/consents/withdraw", data=form)
    assert answer.status_code == 303 and "withdrawn" in answer.headers["location"]


def delete_my_account(browser: httpx.Client) -> str:
    """The resident's own "delete my account", confirmed with the password; returns the
    erasure request id."""
    page = browser.get("/account/delete")
    form = {**form_of(page.text), "confirm": "yes", "password": PASSWORD}
    answer = browser.post("/account/delete", data=form)
    assert answer.status_code == 303, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["ref"][0]


def received_sets(platform: Platform, event: str) -> list[bytes]:
    with platform.lock:
        return [
            body
            for path, _, body in platform.received
            if path == "/events"
            and event in jwt.decode(body.decode(), options={"verify_signature": False})["events"]
        ]


def verify(token: str, jwks: dict[str, Any], issuer: str, audience: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256", "ES256"], audience=audience, issuer=issuer
    )
    return claims


def test_erasure_reaches_both_platforms_across_a_restart_and_leaves_nothing_readable(
    tmp_path: Path, database: str
) -> None:
    data_dir = tmp_path / "data"
    up, down = Platform(), Platform()
    up.start()
    try:
        with run_server(data_dir, database, **FAST) as server:
            issuer = server.url
            a, b = (
                add_platform(server, "Buurt", up),
                add_platform(server, "Stem", down, "localhost"),
            )
            with httpx.Client(base_url=issuer, timeout=15) as browser:
                register_and_verify(browser, data_dir / "outbox")
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
                rps, tokens = {}, {}
                for client in (a, b):
                    rps[client["client_id"]], tokens[client["client_id"]] = sign_in_at(
                        issuer, client
                    )
                rp_a = rps[a["client_id"]]
                try:
                    first = rp_a.userinfo(
                        tokens[a["client_id"]]["access_token"], tokens[a["client_id"]]["sub"]
                    )
                    assert first["name"] == NAME and first["email"] == EMAIL

                    # Withdrawal: the RP's very next UserInfo call lacks the field.
                    log_in(browser)
                    withdraw(browser, a["client_id"], "name")
                    after = rp_a.userinfo(
                        tokens[a["client_id"]]["access_token"], tokens[a["client_id"]]["sub"]
                    )
                    assert "name" not in after and after["email"] == EMAIL
                    wait_for(lambda: len(received_sets(up, CLAIMS_CHANGE)) == 1)
                finally:
                    for rp in rps.values():
                        rp.close()
                assert list((data_dir / "outbox").glob("*.eml")), "the outbox held the mail"
                request_id = delete_my_account(browser)
            jwks = httpx.get(issuer + "/jwks.json").json()
            # + the purge SET and two logout tokens (sub alone; sub + sid) at the live platform
            wait_for(lambda: len(up.received) == 4)
            for client in (a, b):
                for kind in ("access_token", "refresh_token"):
                    if kind not in tokens[client["client_id"]]:
                        continue
                    answer = httpx.post(
                        issuer + "/introspect",
                        data={"token": tokens[client["client_id"]][kind]},
                        auth=(client["client_id"], client["client_secret"]),
                    )
                    assert answer.json() == {"active": False}
            shown = json.loads(server.cli("erasure", "show", request_id, "--json").stdout)
            assert shown["status"] == "propagating" and shown["requested_by"] == "resident"
        # Kluis restarts while platform B is still down; B comes back afterwards.
        down.start()
        with run_server(data_dir, database, **FAST) as server:
            wait_for(lambda: len(down.received) == 3, timeout=30)

            def completed() -> bool:
                out = server.cli("erasure", "show", request_id, "--json").stdout
                return bool(json.loads(out)["status"] == "completed")

            wait_for(completed, timeout=30)
            log = server.log()
    finally:
        up.stop()
        down.stop()

    (changed,) = received_sets(up, CLAIMS_CHANGE)
    claims = verify(changed.decode(), jwks, issuer, a["client_id"])
    assert claims["events"][CLAIMS_CHANGE]["claims"] == {"name": None}
    assert claims["sub_id"]["sub"] == tokens[a["client_id"]]["sub"]
    for platform, client in ((up, a), (down, b)):
        (purged,) = received_sets(platform, PURGED)
        assert jwt.get_unverified_header(purged.decode())["typ"] == "secevent+jwt"
        claims = verify(purged.decode(), jwks, issuer, client["client_id"])
        sub = tokens[client["client_id"]]["sub"]
        assert claims["sub_id"] == {"format": "iss_sub", "iss": issuer, "sub": sub}
        by_path = {path: (ctype, body) for path, ctype, body in platform.received}
        assert by_path["/events"][0] == "application/secevent+jwt"
        logouts = [
            verify(parse_qs(body.decode())["logout_token"][0], jwks, issuer, client["client_id"])
            for path, _, body in platform.received
            if path == "/backchannel"
        ]
        assert [c["sub"] for c in logouts] == [sub, sub]
        assert sorted("sid" in c for c in logouts) == [False, True]
    assert tokens[a["client_id"]]["sub"] != tokens[b["client_id"]]["sub"]

    assert EMAIL not in log and NAME not in log
    # Everything the service wrote: the database file and its WAL/journal (SQLite lives next
    # to the data directory in these tests), the data directory with the mail outbox, the log.
    needles = [s.encode() for s in (EMAIL, NAME, POSTCODE, "Wisselaar")]
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            scanned += 1
            content = path.read_bytes()
            found = [n for n in needles if n in content]
            assert not found, f"{path.name} holds {found}"
    assert scanned >= 2
