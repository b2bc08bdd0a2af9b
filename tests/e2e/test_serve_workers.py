"""`kluis serve --workers 2`: two app processes share the port and the database; both answer,
and the background worker (deliveries, erasure refreshes, audit checkpoints) runs in exactly
one of them, the holder of the lease."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.databases import drop_database, fresh_database_url
from tests.support.live_kluis import add_resident
from tests.support.server import LiveServer, run_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[LiveServer]:
    url = fresh_database_url(tmp_path)
    try:
        with run_server(
            tmp_path / "data",
            url,
            workers=2,
            KLUIS_OUTBOX_INTERVAL="0.2",
            KLUIS_AUDIT_CHECKPOINT_INTERVAL="1",
        ) as server:
            yield server
    finally:
        drop_database(url)


def worker_processes(parent: int) -> list[int]:
    """The app processes `kluis serve` started: uvicorn spawns its workers as children (beside
    multiprocessing's resource tracker, which is not one)."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            workers.append(int(stat.parent.name))
    return workers


def test_two_workers_answer_and_one_background_worker_signs(two_workers: LiveServer) -> None:
    server = two_workers
    # uvicorn replaces a worker that does not answer its supervisor within 5 s of starting,
    # which a loaded machine can delay: wait for the two to be there
    deadline = time.monotonic() + 30
    while len(worker_processes(server.process.pid)) != 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(worker_processes(server.process.pid)) == 2
    for _ in range(20):
        with httpx.Client(base_url=server.url, timeout=10) as http:  # a new connection each
            assert http.get("/healthz").status_code == 200
    add_resident(server, "bewoner@example.org", "een lang wachtwoord 42")  # audit entries
    deadline = time.monotonic() + 30
    while "took the lease" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # many rounds of both background threads, several checkpoint intervals
    log = server.log()
    assert log.count("background worker: took the lease") == 1, log[-2000:]
    verified = server.cli("audit", "verify", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "checkpoint" in verified.stdout.lower()
