from __future__ import annotations

import json
import re

import httpx

from tests.support.server import LiveServer

EMAIL = "desk.resident@example.org"
PASSWORD = "een lang en sterk wachtwoord"


def test_desk_account_from_the_cli_logs_in_on_the_real_server(live_server: LiveServer) -> None:
    out = live_server.cli("accounts", "add", "--email", EMAIL, "--password", PASSWORD, "--json")
    created = json.loads(out.stdout)
    assert created["email_verified"] is True

    with httpx.Client(base_url=live_server.url) as browser:
        page = browser.get("/login", params={"return_to": "/?welkom=1"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        response = browser.post(
            "/login",
            data={
                "email": EMAIL,
                "password": PASSWORD,
                "return_to": "/?welkom=1",
                "csrf_token": token.group(1),
            },
        )
        assert response.status_code == 303 and response.headers["location"] == "/?welkom=1"
        assert "kluis_session" in browser.cookies
        assert "Je bent ingelogd" in browser.get("/login").text

    listed = json.loads(live_server.cli("accounts", "list", "--json").stdout)
    assert [row["account_id"] for row in listed] == [created["account_id"]]
    log = live_server.log()
    assert EMAIL not in log and PASSWORD not in log
    assert EMAIL not in out.stderr
