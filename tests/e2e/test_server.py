from __future__ import annotations

import json

import httpx
import jwt

from tests.support.server import LiveServer


def test_real_server_starts_within_45_s_and_serves_health_jwks_and_pages(
    live_server: LiveServer,
) -> None:
    # migrate + generate development keys + start uvicorn, measured from nothing
    assert live_server.startup_seconds < 45  # about 3 s idle; CI runs it beside the suite
    assert httpx.get(live_server.url + "/healthz").text == "ok"
    assert httpx.get(live_server.url + "/readyz").json()["status"] == "ready"
    jwks = httpx.get(live_server.url + "/jwks.json").json()
    assert {k["alg"] for k in jwks["keys"]} == {"RS256", "ES256"}
    page = httpx.get(live_server.url + "/", headers={"Accept-Language": "en"})
    assert "Welcome to Kluis" in page.text
    assert "development signing keys created" in live_server.log()
    # the development mail outbox is announced once, by serve, not by every operator command
    assert live_server.log().count("development mail outbox in use") == 1
    listed = live_server.cli("accounts", "list")
    assert "outbox" not in listed.stderr and "outbox" not in listed.stdout
    # logs are JSON lines
    lines = [line for line in live_server.log().splitlines() if line.startswith("{")]
    assert lines and all(json.loads(line)["level"] for line in lines)


def test_cli_rotation_against_running_server_publishes_new_key(live_server: LiveServer) -> None:
    before = {k["kid"] for k in httpx.get(live_server.url + "/jwks.json").json()["keys"]}
    out = live_server.cli("keys", "rotate", "--alg", "ES256", "--publish-delay", "600").stdout
    assert out.startswith("published es256-")
    after = httpx.get(live_server.url + "/jwks.json").json()["keys"]
    new = {k["kid"] for k in after} - before
    assert len(new) == 1
    listed = json.loads(live_server.cli("keys", "list", "--json").stdout)
    states = {row["kid"]: row["state"] for row in listed}
    assert states[new.pop()] == "published"
    assert sorted(states.values()).count("active") == 2
    for key in after:
        jwt.PyJWK(key)  # every published key parses as a public JWK
