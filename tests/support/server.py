"""A real Kluis server (the installed `kluis` command under uvicorn) on a loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.kluis_process import KLUIS, run_kluis

STARTUP_TIMEOUT_S = 90.0  # migrate + start; a loaded 2-core machine once needed over 30 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_seconds: float

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`kluis ARGS` on this deployment, as its operator runs it (in a process of its own,
        forked from one that has imported the command: tests.support.kluis_process)."""
        return run_kluis(args, self.env, check=check)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def server_env(data_dir: Path, database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLUIS_")}
    env.update(
        {
            "KLUIS_DATA_DIR": str(data_dir),
            "KLUIS_DATABASE_URL": database_url,
            "KLUIS_HOST": "127.0.0.1",
            "KLUIS_PORT": str(port),
            "KLUIS_ISSUER": f"http://127.0.0.1:{port}",
        }
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def run_server(
    data_dir: Path,
    database_url: str,
    log_name: str = "server.log",
    *,
    port: int | None = None,
    workers: int = 1,
    **extra_env: str,
) -> Iterator[LiveServer]:
    """`kluis serve` on a free port (or `port`, when another party must know the address
    before it starts). Two servers may share `data_dir` (and so the development secret and
    keys) and a database, as two app processes of one deployment do."""
    port = port or free_port()
    env = server_env(data_dir, database_url, port, **extra_env)
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run_kluis(["db", "upgrade"], env)
    log_path = data_dir / log_name
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [KLUIS, "serve", "--workers", str(workers)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = env["KLUIS_ISSUER"]
    try:
        deadline = started + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kluis serve exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"kluis serve did not answer in time:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield LiveServer(url, env, process, log_path, time.monotonic() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def fresh_server(tmp_path: Path, **extra_env: str) -> Iterator[LiveServer]:
    """`kluis serve` on a database of its own (`tmp_path`/data as its data directory), dropped
    afterwards: what most end-to-end tests start with."""
    from tests.support.databases import drop_database, fresh_database_url

    url = fresh_database_url(tmp_path)
    try:
        # as environment variables only (mypy would match a str to `port` or `workers`)
        environment: dict[str, Any] = dict(extra_env)
        with run_server(tmp_path / "data", url, **environment) as live:
            yield live
    finally:
        drop_database(url)
