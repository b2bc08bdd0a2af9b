"""A data steward on a real server: the operator grants the role with the CLI, the steward's
own tool (an independent Authlib relying party registered with --steward-tool) gets an access
token with scope `steward`, reads and filters the audit log, and checks an inclusion proof
against a checkpoint signed by the key `kluis audit key` printed. A resident with the same
tool gets no steward scope and a 404; revoking the role ends the steward's token at once."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit.checkpoint import NoteVerifier, open_checkpoint
from audit.merkle import leaf_hash
from audit.proofs import verify_inclusion
from core.canonical import canonical_json
from tests.support.authlib_rp import AuthlibSession
from tests.support.server import LiveServer, fresh_server

PASSWORD = "een lang en sterk wachtwoord"
STEWARD, RESIDENT = "steward@example.org", "bewoner@example.org"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with fresh_server(tmp_path) as live:
        yield live


def token_for(server: LiveServer, client: dict[str, Any], email: str) -> dict[str, Any]:
    config = {
        "issuer": server.url,
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "redirect_uri": client["redirect_uris"][0],
        "email": email,
        "password": PASSWORD,
        "claims_to_allow": [],
        "scope": "openid steward",
    }
    rp = AuthlibSession(config, {"steps": []})
    try:
        rp.discover()
        url, checks = rp.authorization_request()
        walked = rp.walk(url)
        return rp.exchange(walked.callback_url, checks)
    finally:
        rp.close()


def api(server: LiveServer, token: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{server.url}/steward/api{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )


def test_steward_tool_reads_and_verifies_the_log_and_loses_access_with_the_role(
    server: LiveServer,
) -> None:
    for email in (STEWARD, RESIDENT):
        server.cli("accounts", "add", "--email", email, "--password", PASSWORD)
    server.cli("accounts", "steward", "grant", "--email", STEWARD)
    tool = json.loads(
        server.cli(
            "clients",
            "add",
            "--name",
            "Stewardtool",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--steward-tool",
            "--json",
        ).stdout
    )
    assert "steward" in tool["scope"].split()

    steward = token_for(server, tool, STEWARD)
    assert "steward" in steward["scope"].split()
    access = steward["access_token"]
    granted = api(server, access, "/audit/entries", event="account.role_granted")
    assert granted.status_code == 200, granted.text
    (entry,) = granted.json()["entries"]
    assert entry["entry"]["actor"] == "operator:cli"

    server.cli("audit", "checkpoint")
    latest = api(server, access, "/audit/checkpoints/latest").json()
    verifier = NoteVerifier.from_string(server.cli("audit", "key").stdout.strip())
    checkpoint = open_checkpoint(latest["note"], [verifier], origin=verifier.name)
    proof = api(
        server, access, "/audit/proofs/inclusion", index=entry["index"], tree_size=checkpoint.size
    ).json()
    leaf = leaf_hash(canonical_json(entry["entry"]))  # recomputed from the entry itself
    assert base64.b64decode(proof["leaf_hash"]) == leaf
    verify_inclusion(
        entry["index"],
        checkpoint.size,
        leaf,
        [base64.b64decode(p) for p in proof["proof"]],
        checkpoint.root_hash,
    )

    resident = token_for(server, tool, RESIDENT)
    assert "steward" not in resident.get("scope", "").split()
    assert api(server, resident["access_token"], "/audit/entries").status_code == 404

    server.cli("accounts", "steward", "revoke", "--email", STEWARD)
    assert api(server, access, "/audit/entries").status_code == 404

    lines = server.cli("audit", "export").stdout.splitlines()
    reads = [json.loads(line)["entry"] for line in lines]
    reads = [e for e in reads if e["event"] == "steward.read"]
    assert [r["details"]["what"] for r in reads] == [
        "audit.entries",
        "audit.checkpoint",
        "audit.inclusion_proof",
    ]
    assert all(r["details"]["via"] == "token" for r in reads)
    log = server.log()
    assert STEWARD not in log and RESIDENT not in log
