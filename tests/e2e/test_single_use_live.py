"""One-time things stay one-time on a real server, where token requests run on the event loop's
thread when the write lock is free and in the thread pool when it is not (`in_session(local=
True)` on SQLite): six concurrent exchanges of one code and six concurrent refreshes of one
token, one winner each, and the reuse revokes the grant."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx

from tests.support import forms
from tests.support.live_kluis import add_client, add_resident
from tests.support.server import LiveServer

REDIRECT_URI = "http://127.0.0.1:9/cb"
EMAIL = "eenmalig@example.org"
PASSWORD = "een lang wachtwoord 42"
RACERS = 6


def _race(live: LiveServer, client: dict[str, Any], form: dict[str, str]) -> list[httpx.Response]:
    start = threading.Barrier(RACERS)
    auth = (client["client_id"], client["client_secret"])

    def post(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as http:
            start.wait(timeout=30)
            return http.post(live.url + "/token", data=form, auth=auth)

    with concurrent.futures.ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(post, range(RACERS)))


def _one_winner(responses: list[httpx.Response]) -> dict[str, Any]:
    won = [r for r in responses if r.status_code == 200]
    assert len(won) == 1, [(r.status_code, r.text[:80]) for r in responses]
    for lost in responses:
        if lost.status_code != 200:
            assert lost.status_code == 400 and lost.json()["error"] == "invalid_grant"
    body: dict[str, Any] = won[0].json()
    return body


def _code(live: LiveServer, client: dict[str, Any], http: httpx.Client) -> dict[str, str]:
    """A fresh code (the resident's session and consent are remembered after the first)."""
    verifier, challenge = forms.pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    done = forms.authorize(
        http,
        f"{live.url}/authorize?{urlencode(query)}",
        redirect_uri=REDIRECT_URI,
        email=EMAIL,
        password=PASSWORD,
        claims_to_allow=["email"],
    )
    return {
        "grant_type": "authorization_code",
        "code": parse_qs(done.callback_url.query.decode())["code"][0],
        "code_verifier": verifier,
        "redirect_uri": REDIRECT_URI,
    }


def _refused(live: LiveServer, client: dict[str, Any], tokens: dict[str, Any]) -> None:
    """The grant is revoked: its refresh token and its access token are refused."""
    auth = (client["client_id"], client["client_secret"])
    again = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    with httpx.Client(timeout=30) as http:
        assert http.post(live.url + "/token", data=again, auth=auth).status_code == 400
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get(live.url + "/userinfo", headers=bearer).status_code == 401


def test_a_code_and_a_refresh_token_are_used_once_under_concurrent_requests(
    live_server: LiveServer,
) -> None:
    client = add_client(live_server, "Eenmalig platform", REDIRECT_URI)
    add_resident(live_server, EMAIL, PASSWORD)
    with httpx.Client(timeout=30) as http:
        raced_code = _code(live_server, client, http)
        tokens = _one_winner(_race(live_server, client, raced_code))
        # the code was replayed: what it gave is revoked (RFC 6749 §4.1.2)
        _refused(live_server, client, tokens)

        exchanged = http.post(
            live_server.url + "/token",
            data=_code(live_server, client, http),
            auth=(client["client_id"], client["client_secret"]),
        )
    assert exchanged.status_code == 200, exchanged.text
    fresh = exchanged.json()
    refresh = {"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]}
    rotated = _one_winner(_race(live_server, client, refresh))
    assert rotated["refresh_token"] != fresh["refresh_token"]
    # the losers presented a used refresh token: the grant is revoked, with all its tokens
    _refused(live_server, client, rotated)
    assert "database is locked" not in live_server.log()
