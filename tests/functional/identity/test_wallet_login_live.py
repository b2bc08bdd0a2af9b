"""Login by QR across two real `kluis serve` processes on one database: the desktop browser
follows its login (server-sent events) on one process while the wallet presents to the other.
With a 60-second fallback poll, only PostgreSQL's NOTIFY can deliver `done` within seconds;
on SQLite the stream re-reads every 0.25 s."""

from __future__ import annotations

import html
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.functional.attestations.test_verifier_live import two_servers
from tests.support.attestations import REAL_PERSON_INPUT
from tests.support.oidc import hidden_fields
from tests.support.wallet import Wallet
from tests.support.wallet_login import LINK

pytestmark = pytest.mark.e2e


def test_the_desktop_stream_on_one_process_wakes_when_the_wallet_presents_to_another(
    tmp_path: Path,
) -> None:
    with two_servers(tmp_path, KLUIS_VERIFIER_FALLBACK_POLL="60") as (a, b_url):
        password = "correct-horse-battery-staple-42"  # an active account (not a desk one)
        a.cli("accounts", "add", "--email", "jan@example.org", "--password", password, "--json")
        offer = json.loads(
            a.cli(
                "attestations", "offer", "--account", "jan@example.org", "--type",
                "real_person", "--claims", json.dumps(REAL_PERSON_INPUT), "--json",
            ).stdout
        )  # fmt: skip
        received: list[tuple[float, dict[str, Any]]] = []
        with (
            Wallet.over_http(a.url) as phone,
            httpx.Client(base_url=b_url, timeout=90) as desktop,
        ):
            phone.accept(offer["offer_uri"], offer["tx_code"])
            token = hidden_fields(desktop.get("/login").text)["csrf_token"]
            created = desktop.post("/login/wallet", data={"csrf_token": token})
            assert created.status_code == 303, created.text
            login_path = created.headers["location"]
            started = desktop.get(login_path)
            found = LINK.search(started.text)
            assert found is not None, "the page shows the universal link"
            payload = "openid4vp://?" + urlsplit(html.unescape(found.group(1))).query

            def listen() -> None:
                with desktop.stream("GET", login_path + "/events") as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data: "):
                            received.append((time.monotonic(), json.loads(line[6:])))

            listener = threading.Thread(target=listen)
            listener.start()
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert received and received[0][1] == {"status": "pending"}

            answer = phone.present(payload)
            presented_at = time.monotonic()
            assert answer.status_code == 200, answer.text
            listener.join(timeout=30)
            assert not listener.is_alive()
            done = desktop.post(login_path, data={"csrf_token": token}, follow_redirects=False)

    statuses = [event["status"] for _, event in received]
    assert statuses in (["pending", "scanned", "done"], ["pending", "done"])
    done_at, _ = received[-1]
    assert done_at - presented_at < 5  # the fallback re-read would come after 60 s
    assert done.status_code == 303 and done.headers["location"] == "/account"
