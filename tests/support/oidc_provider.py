"""node oidc-provider, configured like Kluis (bench/oidc_flow/node/server.mjs), on a loopback
port: the peer of the OIDC benchmark, and a reference OP to self-test the relying-party
harnesses against while Kluis's own OP is being written. Its interaction pages follow Kluis's
form contract (login-form, consent-form), so tests/support/forms.py drives both."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.node import REPO, ensure_node_modules, executable

SERVER_DIR = REPO / "bench" / "oidc_flow" / "node"
STARTUP_TIMEOUT_S = 30.0


@dataclass
class ReferenceOP:
    issuer: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def run_oidc_provider(
    work_dir: Path,
    *,
    clients: Sequence[dict[str, Any]],
    accounts: Sequence[dict[str, Any]],
    tls: Mapping[str, str] | None = None,
    store: Mapping[str, str] | None = None,
) -> Iterator[ReferenceOP]:
    """Start server.mjs with these clients (oidc-provider client metadata; defaults: code flow
    + refresh_token, client_secret_basic, pairwise) and accounts ({email, password, claims});
    with `tls` ({cert, key, ca}: PEM paths) over HTTPS, with RFC 8705 `tls_client_auth`; with
    `store` (server.mjs's "store": module, kind, ...) in that durable store, not in memory."""
    ensure_node_modules(SERVER_DIR)
    work_dir.mkdir(parents=True, exist_ok=True)
    ready = work_dir / "oidc-provider-ready.json"
    ready.unlink(missing_ok=True)
    config = work_dir / "oidc-provider-config.json"
    settings: dict[str, Any] = {
        "ready_file": str(ready),
        "clients": list(clients),
        "accounts": list(accounts),
    }
    if tls is not None:
        settings["tls"] = dict(tls)
    if store is not None:
        settings["store"] = dict(store)
    config.write_text(json.dumps(settings))
    log_path = work_dir / "oidc-provider.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [executable("node"), "server.mjs", str(config)],
            cwd=SERVER_DIR,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not ready.exists():
            if process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited early:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"oidc-provider did not start in time:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield ReferenceOP(json.loads(ready.read_text())["issuer"], process, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
