"""End to end on a real server: a backup taken before an erasure, restored afterwards, does not
bring the erased resident back.

Three residents are registered with personal data; one signs in at a platform. `kluis backup`
runs while the server serves. Then the first resident deletes their account on the web (the
platform receives its account-purged SET), and the second has their name erased by an
operator. With the server stopped, `kluis restore` puts the backup back and re-applies both
erasures from the tombstone journal. After a restart the first resident cannot log in (nor so
export anything), their account and data key are not in the database, and the platform is
told again; the second resident logs in without a name; the third resident's data survived.
The journal holds no personal data, the audit log verifies and says what the restore did, and
a missing or damaged backup is refused without changing anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e.test_erasure_server import (
    EMAIL,
    FAST,
    NAME,
    PASSWORD,
    PURGED,
    Platform,
    add_platform,
    delete_my_account,
    form_of,
    received_sets,
    sign_in_at,
    verify,
    wait_for,
)
from tests.support.server import LiveServer, run_server

NAMED = "bea.benaamd@example.org", "Bea Veldnaam"  # has her name erased
KEPT = "cor.blijft@example.org", "Cor Overblijver"  # nothing erased
PERSONAL = [EMAIL, NAME, PASSWORD, *NAMED, *KEPT]


def log_in(browser: httpx.Client, email: str) -> bool:
    page = browser.get("/login")
    form = {**form_of(page.text), "email": email, "password": PASSWORD, "return_to": "/"}
    return browser.post("/login", data=form).status_code == 303


def exported(base: str, email: str) -> dict[str, Any] | None:
    """The resident's own export (GDPR Art. 20), or None when they cannot log in."""
    with httpx.Client(base_url=base, timeout=15) as browser:
        if not log_in(browser, email):
            return None
        answer = browser.get("/account/export")
        assert answer.status_code == 200
        data: dict[str, Any] = answer.json()
        return data


def add_resident(server: LiveServer, email: str, name: str) -> str:
    out = server.cli(
        "accounts", "add", "--email", email, "--password", PASSWORD, "--name", name, "--json"
    )
    return str(json.loads(out.stdout)["account_id"])


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in (k, *leaves(v))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def rows_of(database_url: str, table: str, column: str, value: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = text(f"SELECT count(*) FROM {table} WHERE {column} = :v")
            return int(conn.execute(query, {"v": value}).scalar_one())
    finally:
        engine.dispose()


def test_restoring_a_backup_from_before_erasures_keeps_the_residents_erased(
    tmp_path: Path,
    database: str,
) -> None:
    data_dir = tmp_path / "data"
    backup_file = tmp_path / "before-erasure.backup"
    platform = Platform()
    platform.start()
    try:
        with run_server(data_dir, database, **FAST) as server:
            client = add_platform(server, "Buurt", platform)
            erased_id = add_resident(server, EMAIL, NAME)
            add_resident(server, *NAMED)
            add_resident(server, *KEPT)
            rp, tokens = sign_in_at(server.url, client)
            rp.close()

            made = json.loads(server.cli("backup", str(backup_file), "--json").stdout)
            assert made["format"] in ("sqlite", "pg_dump") and backup_file.stat().st_size

            with httpx.Client(base_url=server.url, timeout=15) as browser:
                assert log_in(browser, EMAIL)
                account_request = delete_my_account(browser)
            out = server.cli(
                "accounts", "delete", "--email", NAMED[0], "--field", "name", "--yes", "--json"
            )
            field_request = json.loads(out.stdout)["id"]
            wait_for(lambda: len(received_sets(platform, PURGED)) == 1)
            jwks = httpx.get(server.url + "/jwks.json").json()
            issuer = server.url

        journal = (data_dir / "tombstones.jsonl").read_bytes()
        lines = [json.loads(line) for line in journal.splitlines()]
        assert [line["request"] for line in lines] == [account_request, field_request]
        values = [leaf for line in lines for leaf in leaves(line)]
        assert not [v for v in values if v in PERSONAL], "personal data in the journal"
        assert not [p for p in PERSONAL if p.encode() in journal]

        restored = server.cli("restore", str(backup_file), "--yes", "--json")
        result = json.loads(restored.stdout)
        assert (result["reapplied_accounts"], result["reapplied_fields"]) == (1, 1)
        assert [r["request_id"] for r in result["reapplied"]] == [account_request, field_request]
        assert result["already_in_backup"] == 0 and result["deliveries"] >= 1
        assert not [p for p in PERSONAL if p in restored.stdout + restored.stderr]
        url = make_url(database)
        if url.get_backend_name() == "sqlite":  # neither the staging file nor a sidecar left
            live = Path(url.database or "")
            assert not list(live.parent.glob(f"{live.name}.restoring*"))

        # The same issuer as before (the audit log's checkpoints are signed for its origin).
        same = {"KLUIS_PORT": server.env["KLUIS_PORT"], "KLUIS_ISSUER": issuer}
        with run_server(data_dir, database, log_name="after.log", **FAST, **same) as server:
            # The erased resident stays erased: no login (so no export), no account, no key.
            assert exported(server.url, EMAIL) is None
            assert rows_of(database, "accounts", "id", erased_id) == 0
            assert rows_of(database, "subject_keys", "subject_id", erased_id) == 0
            # The restored database lacked the original deliveries: the platform is told again.
            wait_for(lambda: len(received_sets(platform, PURGED)) == 2)
            again = received_sets(platform, PURGED)[1].decode()
            claims = verify(again, jwks, issuer, client["client_id"])
            assert claims["sub_id"]["sub"] == tokens["sub"]

            # The field erasure holds; the other residents' data survived the restore.
            named = exported(server.url, NAMED[0])
            assert named is not None and named["account"]["name"] is None
            kept = exported(server.url, KEPT[0])
            assert kept is not None and kept["account"]["name"] == KEPT[1]

            verified = server.cli("audit", "verify", "--json")
            assert json.loads(verified.stdout)["ok"] is True
            entries = [
                json.loads(e)["entry"]
                for e in server.cli("audit", "export").stdout.split("\n")
                if e
            ]
            (restore_entry,) = [e for e in entries if e["event"] == "backup.restored"]
            assert restore_entry["details"]["requests"] == [account_request, field_request]
            assert restore_entry["details"]["backup_sha256"] == made["sha256"]
            reapplied = [
                e["details"]["request_id"] for e in entries if e["event"] == "erasure.reapplied"
            ]
            assert reapplied == [account_request, field_request]
            assert not [v for e in entries for v in leaves(e) if v in PERSONAL]
            listed = json.loads(server.cli("erasure", "list", "--json").stdout)
            assert {r["id"] for r in listed} == {account_request, field_request}

            # Re-applying again finds nothing to do.
            again_out = json.loads(server.cli("erasure", "reapply", "--json").stdout)
            assert again_out["already_in_backup"] == 2 and again_out["reapplied"] == []

            # A missing or damaged backup is refused, and nothing changes.
            missing = server.cli("restore", str(tmp_path / "nope"), "--yes", check=False)
            assert missing.returncode == 1 and "does not exist" in missing.stderr
            damaged = tmp_path / "damaged.backup"
            damaged.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size // 3])
            refused = server.cli("restore", str(damaged), "--yes", check=False)
            assert refused.returncode == 1 and "damaged" in refused.stderr + refused.stdout
            assert exported(server.url, KEPT[0]) is not None
            assert not [p for p in PERSONAL if p in refused.stderr + missing.stderr]
            exists = server.cli("backup", str(backup_file), check=False)
            assert exists.returncode == 1 and "never overwrites" in exists.stderr
    finally:
        platform.stop()
