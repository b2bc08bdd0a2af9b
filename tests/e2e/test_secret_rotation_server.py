"""End to end: rotate the key-encryption secret under a real server, with `kluis secret rotate`
killed by SIGKILL halfway.

A resident registers while Kluis runs on the root secret alone and signs in at a platform (an
independent Authlib RP). The operator moves the keys to a separate key-encryption secret K1,
then rotates K1 → K2; that run is killed mid-way. With K1 still accepted the service works on
the mix (same pairwise `sub`, same e-mail); without K1 it refuses to start and says why; a
rerun re-wraps exactly what was left; after that K1 can go. An erased resident stays erased.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.authlib_rp import AuthlibSession
from tests.support.kluis_process import run_kluis
from tests.support.server import KLUIS, run_server, server_env

EMAIL = "roos.roteer@example.org"
ERASED = "weg.na.rotatie@example.org"
PASSWORD = "een lang en sterk wachtwoord"
REDIRECT = "http://127.0.0.1:9/cb"  # never fetched: the RP stops at the redirect
K1 = "e2e-first-key-encryption-material-0123456789abcdefgh"
K2 = "e2e-second-key-encryption-material-9876543210zyxwvu"
NEIGHBOURS = 2
LIVE_SUBJECT_KEYS = 1 + NEIGHBOURS  # the erased resident's key is gone
KILL_AFTER_BATCHES = 3  # of 2 signing keys + 3 subject keys, one per batch


def kluis(
    data_dir: Path, database: str, *args: str, check: bool = True, **secrets: str
) -> subprocess.CompletedProcess[str]:
    env = server_env(data_dir, database, 8000, **secrets)
    done = run_kluis(args, env, check=False, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"kluis {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def status(data_dir: Path, database: str, check: bool = True, **secrets: str) -> dict[str, Any]:
    done = kluis(data_dir, database, "secret", "status", "--json", check=check, **secrets)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def platform_view(issuer: str, client: dict[str, Any]) -> dict[str, Any]:
    """The platform's RP signs the resident in (e-mail and password) and reads UserInfo."""
    rp = AuthlibSession(
        {
            "issuer": issuer,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "redirect_uri": REDIRECT,
            "email": EMAIL,
            "password": PASSWORD,
            "claims_to_allow": ["email"],
        },
        {"steps": []},
    )
    try:
        rp.discover()
        url, checks = rp.authorization_request()
        tokens = rp.exchange(rp.walk(url).callback_url, checks)
        info = httpx.get(
            rp.meta["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=15,
        ).json()
    finally:
        rp.close()
    return {"sub": tokens["id_token_claims"]["sub"], "email": info.get("email")}


def login_status(issuer: str, email: str) -> int:
    with httpx.Client(base_url=issuer, timeout=15) as browser:
        page = browser.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"csrf_token": token, "email": email, "password": PASSWORD, "return_to": "/"}
        return browser.post("/login", data=form).status_code


def rotate_and_kill(data_dir: Path, database: str, **secrets: str) -> list[str]:
    """`kluis secret rotate`, one key per batch, SIGKILLed after KILL_AFTER_BATCHES batches
    reported committed; returns the lines it printed."""
    env = server_env(data_dir, database, 8000, **secrets)
    process = subprocess.Popen(
        [KLUIS, "secret", "rotate", "--batch-size", "1", "--pause", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True)
    reader.start()
    printed: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while sum("re-wrapped" in line for line in printed) < KILL_AFTER_BATCHES:
            assert process.poll() is None, f"rotate ended before the kill: {printed}"
            assert time.monotonic() < deadline, f"rotate made no progress: {printed}"
            try:
                printed.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)  # the pipe reaches its end once the process is gone
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    return printed


def test_rotation_killed_halfway_keeps_the_service_working_and_a_rerun_finishes(
    tmp_path: Path, database: str
) -> None:
    data_dir = tmp_path / "data"
    k1 = {"KLUIS_KEY_ENCRYPTION_SECRET": K1}
    k2_k1 = {"KLUIS_KEY_ENCRYPTION_SECRET": K2, "KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS": K1}
    k2 = {"KLUIS_KEY_ENCRYPTION_SECRET": K2}

    # Before: the root secret wraps everything, as in every deployment so far.
    with run_server(data_dir, database) as server:
        server.cli("accounts", "add", "--email", EMAIL, "--password", PASSWORD)
        server.cli("accounts", "add", "--email", ERASED, "--password", PASSWORD)
        for i in range(NEIGHBOURS):
            server.cli("accounts", "add", "--email", f"buur{i}@example.org", "--password", PASSWORD)
        client = json.loads(
            server.cli(
                "clients", "add", "--name", "Buurt", "--redirect-uri", REDIRECT, "--json"
            ).stdout
        )
        before = platform_view(server.url, client)
        assert before["email"] == EMAIL
        server.cli("accounts", "delete", "--email", ERASED, "--yes")
    assert status(data_dir, database)["previous_secrets_removable"]

    # Move off the root onto K1 (the root stays accepted for what is still under it).
    assert status(data_dir, database, **k1)["pending"] == 2 + LIVE_SUBJECT_KEYS
    kluis(data_dir, database, "secret", "rotate", **k1)
    assert status(data_dir, database, **k1)["pending"] == 0

    # Rotate K1 → K2, killed halfway.
    printed = rotate_and_kill(data_dir, database, **k2_k1)
    halfway = status(data_dir, database, **k2_k1)
    keys = halfway["keys"]
    assert keys["signing keys"] == {"current": 2}, printed
    assert keys["subject keys"]["current"] >= 1 and keys["subject keys"]["previous-1"] >= 1
    left = halfway["pending"]

    # The service works on the mix, old and new keys alike.
    with run_server(data_dir, database, **k2_k1) as server:
        assert platform_view(server.url, client) == before

    # Without K1 it refuses to start, naming what is missing (never a secret).
    refused = subprocess.run(
        [KLUIS, "serve"],
        env=server_env(data_dir, database, 8000, **k2),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert f"{left} subject keys under key" in refused.stderr
    assert "KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS" in refused.stderr
    assert K1 not in refused.stderr and K2 not in refused.stderr
    assert status(data_dir, database, check=False, **k2)["unknown"] == left

    # A rerun re-wraps exactly what was left and says K1 may go.
    rerun = kluis(data_dir, database, "secret", "rotate", **k2_k1)
    assert f"re-wrapped 0 signing keys and {left} subject keys" in rerun.stdout
    assert "remove KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS" in rerun.stdout
    assert "re-wrapped 0 signing keys and 0 subject keys" in (
        kluis(data_dir, database, "secret", "rotate", **k2_k1).stdout
    )

    with run_server(data_dir, database, **k2) as server:
        assert platform_view(server.url, client) == before
        assert login_status(server.url, ERASED) == 400
    report = status(data_dir, database, **k2)
    assert report["keys"] == {
        "signing keys": {"current": 2},
        "subject keys": {"current": LIVE_SUBJECT_KEYS},
    }
