"""`kluis wallet` against a real server: the operator offers a credential, the command-line
holder receives it (OpenID4VCI over HTTP), a platform starts a verification session, and the
holder presents only what is asked (OpenID4VP over HTTP); a refusal cancels the session."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import jwt

from tests.support.live_kluis import add_client, add_resident
from tests.support.server import KLUIS, LiveServer

EMAIL = "cli.bewoner@example.org"
PASSWORD = "een lang en sterk wachtwoord"
CLAIMS = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}


def wallet(store: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KLUIS, "wallet", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def start(server: LiveServer, client: dict[str, Any], **body: Any) -> dict[str, Any]:
    query = {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [f"{server.url}/vct/postcode"]},
                "claims": [{"path": ["postcode_area"]}],
            }
        ]
    }
    response = httpx.post(
        f"{server.url}/verifier/sessions",
        json={"dcql_query": query, "purpose": "Stemmen", **body},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def status(server: LiveServer, client: dict[str, Any], created: dict[str, Any]) -> dict[str, Any]:
    response = httpx.get(created["status_url"], auth=(client["client_id"], client["client_secret"]))
    body: dict[str, Any] = response.json()
    return body


def test_cli_wallet_receives_then_presents_only_the_asked_claim(
    live_server: LiveServer, tmp_path: Path
) -> None:
    store = tmp_path / "wallet.json"
    add_resident(live_server, EMAIL, PASSWORD)
    offer = json.loads(
        live_server.cli(
            "attestations",
            "offer",
            "--account",
            EMAIL,
            "--type",
            "postcode",
            "--claims",
            json.dumps(CLAIMS),
            "--json",
        ).stdout
    )
    client = add_client(live_server, "Buurtplatform", "http://127.0.0.1:9/cb")

    received = wallet(store, "receive", offer["offer_uri"], "--tx-code", offer["tx_code"])
    assert received.returncode == 0, received.stderr
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    [listed] = json.loads(wallet(store, "list", "--json").stdout)
    assert (
        listed["vct"] == f"{live_server.url}/vct/postcode" and "postcode_area" in listed["claims"]
    )

    created = start(live_server, client, poll_id="buurtbudget")
    shown = wallet(store, "present", created["qr_payload"], "--yes")
    assert shown.returncode == 0, shown.stderr
    assert "postcode_area" in shown.stdout and "shared" in shown.stdout

    body = status(live_server, client, created)
    assert body["status"] == "done"
    header = jwt.get_unverified_header(body["result"])
    jwks = httpx.get(f"{live_server.url}/jwks.json").json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    result = jwt.decode(
        body["result"], jwt.PyJWK(key).key, algorithms=["ES256"], audience=client["client_id"]
    )
    [entry] = result["credentials"]
    assert entry["claims"] == {"postcode_area": "1087"}
    assert result["poll_pseudonym"]  # a Kluis account stands behind the credential

    # the https universal link works as well, and "no" is an access_denied answer
    created = start(live_server, client)
    refused = wallet(store, "present", created["universal_link"], stdin="n\n")
    assert refused.returncode == 0, refused.stderr
    assert "refused" in refused.stdout
    assert status(live_server, client, created)["status"] == "cancelled"
