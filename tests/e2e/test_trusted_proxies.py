"""Whose X-Forwarded-For Kluis believes (#15 defect 4). uvicorn believes it from 127.0.0.1 by
default, so anyone on the machine could reset the per-address login limit by sending a new
address each time. Now no proxy is trusted unless KLUIS_TRUSTED_PROXIES names it."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support import forms
from tests.support.server import LiveServer, run_server

PER_IP = 3


def wrong_login(server: LiveServer, n: int, forwarded_for: str) -> int:
    """A failed login for a new (unknown) address each time, so only the per-IP limit bites."""
    with httpx.Client(timeout=30, headers={"X-Forwarded-For": forwarded_for}) as http:
        fields = {"email": f"onbekend{n}@example.org", "password": "fout wachtwoord"}
        return forms.send(http, forms.prepared(http, server.url + "/login", fields)).status_code


def test_by_default_forwarded_for_is_ignored_and_the_peer_address_is_limited(
    tmp_path: Path, database: str
) -> None:
    limits = {"KLUIS_LOGIN_MAX_FAILURES_PER_IP": str(PER_IP)}
    with run_server(tmp_path / "data", database, **limits) as server:
        statuses = [wrong_login(server, n, f"198.51.100.{n}") for n in range(PER_IP + 1)]
    assert statuses == [400] * PER_IP + [429]


def test_a_trusted_proxy_s_forwarded_for_is_the_address_that_is_limited(
    tmp_path: Path, database: str
) -> None:
    settings = {
        "KLUIS_LOGIN_MAX_FAILURES_PER_IP": str(PER_IP),
        "KLUIS_TRUSTED_PROXIES": "127.0.0.1",
    }
    with run_server(tmp_path / "data", database, **settings) as server:
        spread = [wrong_login(server, n, f"198.51.100.{n}") for n in range(PER_IP + 1)]
        one = [wrong_login(server, 100 + n, "203.0.113.7") for n in range(PER_IP + 1)]
    assert spread == [400] * (PER_IP + 1)  # each forwarded client has its own count
    assert one == [400] * PER_IP + [429]
