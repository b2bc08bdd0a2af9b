"""Two real `kluis serve` processes on one database: a platform waits for a verification
result (server-sent events, long-poll) on one process while the wallet presents to the other."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import backend, drop_database, fresh_database_url
from tests.support.dcql import postcode_query
from tests.support.server import LiveServer, run_server
from tests.support.wallet import Wallet

pytestmark = pytest.mark.e2e
SECRET = "two-processes-share-this-key-encryption-material-0123456789"
CLAIMS = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}


def _own_url(server: LiveServer) -> str:
    return f"http://127.0.0.1:{server.env['KLUIS_PORT']}"


@contextlib.contextmanager
def two_servers(tmp_path: Path, **env: str) -> Iterator[tuple[LiveServer, str]]:
    """Server A (the issuer URL) and the URL of server B, same database and secret."""
    url = fresh_database_url(tmp_path)
    try:
        with run_server(tmp_path / "a", url, KLUIS_SECRET_KEY=SECRET, **env) as a:
            extra = {"KLUIS_SECRET_KEY": SECRET, "KLUIS_ISSUER": a.url, **env}
            with run_server(tmp_path / "b", url, **extra) as b:
                b_url = _own_url(b)
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if httpx.get(b_url + "/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline, b.log()
                    time.sleep(0.1)
                yield a, b_url
    finally:
        drop_database(url)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    with two_servers(tmp_path) as pair:
        yield pair


def provision(a: LiveServer) -> tuple[dict[str, Any], tuple[str, str], dict[str, Any]]:
    """A resident's offer, a platform's credentials and a postcode_area query."""
    a.cli("accounts", "add", "--email", "jan@example.org", "--json")
    offer = json.loads(
        a.cli(
            "attestations", "offer", "--account", "jan@example.org", "--type", "postcode",
            "--claims", json.dumps(CLAIMS), "--json",
        ).stdout
    )  # fmt: skip
    platform = json.loads(
        a.cli(
            "clients", "add", "--name", "Buurt", "--redirect-uri", "https://buurt.example.nl/cb",
            "--json",
        ).stdout
    )  # fmt: skip
    credentials = (platform["client_id"], platform["client_secret"])
    return offer, credentials, postcode_query(a.url)


def test_waiting_on_one_process_sees_the_wallet_present_to_another(
    servers: tuple[LiveServer, str],
) -> None:
    a, b_url = servers
    assert _own_url(a) != b_url
    offer, auth, query = provision(a)
    events: list[dict[str, Any]] = []

    with Wallet.over_http(a.url) as wallet:
        wallet.accept(offer["offer_uri"], offer["tx_code"])
        created = wallet.http.post(
            "/verifier/sessions", json={"dcql_query": query, "purpose": "Buurt"}, auth=auth
        ).json()

        def listen() -> None:
            path = f"/verifier/sessions/{created['session_id']}"
            headers = {"Accept": "text/event-stream"}
            with (
                httpx.Client(base_url=b_url, timeout=30) as http,
                http.stream("GET", path, headers=headers, auth=auth) as stream,
            ):
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))

        polled: list[dict[str, Any]] = []

        def long_poll() -> None:
            path = f"/verifier/sessions/{created['session_id']}"
            with httpx.Client(base_url=b_url, timeout=30) as http:
                polled.append(http.get(path, params={"wait": 20}, auth=auth).json())

        listener = threading.Thread(target=listen)
        listener.start()
        poller = threading.Thread(target=long_poll)
        poller.start()
        deadline = time.monotonic() + 10
        while not events and time.monotonic() < deadline:
            time.sleep(0.05)
        assert events and events[0]["status"] == "pending"

        answer = wallet.present(created["qr_payload"], [("postcode_area",)])
        assert answer.status_code == 200, answer.text
        listener.join(timeout=20)
        poller.join(timeout=20)

    assert not listener.is_alive() and not poller.is_alive()
    assert polled[0]["status"] in ("scanned", "done")  # woken by the first change
    assert [e["status"] for e in events] in (
        ["pending", "scanned", "done"],
        ["pending", "done"],
    )
    assert "result" in events[-1]


@pytest.mark.skipif(backend() != "postgresql", reason="LISTEN/NOTIFY needs PostgreSQL")
def test_notify_wakes_a_waiter_on_another_process_long_before_the_fallback_poll(
    tmp_path: Path,
) -> None:
    """With a 60-second fallback poll, only NOTIFY can deliver `done` within seconds."""
    with two_servers(tmp_path, KLUIS_VERIFIER_FALLBACK_POLL="60") as (a, b_url):
        offer, auth, query = provision(a)
        received: list[tuple[float, dict[str, Any]]] = []
        with Wallet.over_http(a.url) as wallet:
            wallet.accept(offer["offer_uri"], offer["tx_code"])
            body = {"dcql_query": query, "purpose": "Buurt"}
            created = wallet.http.post("/verifier/sessions", json=body, auth=auth).json()
            path = f"/verifier/sessions/{created['session_id']}"

            def listen() -> None:
                with (
                    httpx.Client(base_url=b_url, timeout=90) as http,
                    http.stream(
                        "GET", path, headers={"Accept": "text/event-stream"}, auth=auth
                    ) as stream,
                ):
                    for line in stream.iter_lines():
                        if line.startswith("data: "):
                            received.append((time.monotonic(), json.loads(line[6:])))

            listener = threading.Thread(target=listen)
            listener.start()
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert received and received[0][1]["status"] == "pending"

            answer = wallet.present(created["qr_payload"], [("postcode_area",)])
            presented_at = time.monotonic()
            assert answer.status_code == 200, answer.text
            listener.join(timeout=30)

    assert not listener.is_alive()
    assert [event["status"] for _, event in received] == ["pending", "scanned", "done"]
    done_at, done = received[-1]
    assert "result" in done
    assert done_at - presented_at < 5  # the fallback re-read would come after 60 s
