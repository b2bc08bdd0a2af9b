"""The operator's path on a real server: `kluis accounts add`, `kluis attestations offer`, a
wallet over real HTTP, `kluis attestations revoke`, and the status list seen from outside."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from attestations.statuslist import decode_list, status_at
from tests.support.databases import drop_database, fresh_database_url
from tests.support.server import LiveServer, run_server
from tests.support.wallet import Wallet

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    url = fresh_database_url(tmp_path)
    try:
        with run_server(tmp_path / "data", url) as live:
            yield live
    finally:
        drop_database(url)


def test_offer_issue_revoke_against_a_real_server(server: LiveServer, tmp_path: Path) -> None:
    account = json.loads(
        server.cli("accounts", "add", "--email", "jan@example.org", "--json").stdout
    )["account_id"]
    claims = json.dumps({"birth_date": "2001-02-03"})
    qr = tmp_path / "offer.png"
    offer = json.loads(
        server.cli(
            "attestations",
            "offer",
            "--account",
            "jan@example.org",
            "--type",
            "age",
            "--claims",
            claims,
            "--json",
            "--qr",
            str(qr),
        ).stdout
    )
    assert offer["credential_offer_uri"].startswith(server.url + "/credential-offer/")
    assert qr.stat().st_size > 0

    with httpx.Client(base_url=server.url) as http:
        [stored] = Wallet(http).accept(offer["offer_uri"], offer["tx_code"])
        listed = json.loads(
            server.cli("attestations", "list", "--account", account, "--json").stdout
        )
        assert [item["type"] for item in listed] == ["age"]
        assert "revoked" in server.cli("attestations", "revoke", listed[0]["id"]).stdout

        payload = jwt.decode(stored.credential.split("~")[0], options={"verify_signature": False})
        ref = payload["status"]["status_list"]
        response = http.get(ref["uri"])
        assert response.headers["content-type"] == "application/statuslist+jwt"
        status_list = jwt.decode(response.text, options={"verify_signature": False})
        assert status_at(decode_list(status_list["status_list"]["lst"]), ref["idx"]) == 1
    assert "2001-02-03" not in server.log()
