"""PostgreSQL high availability (#15): two `kluis serve` processes on a pg_auto_failover
formation (a primary and a synchronous standby, tests/support/pg_auto_failover.py) connect
with the multi-host URL and `target_session_attrs=read-write`. Under a mixed load (logins,
issuance, presentations, verification sessions; each of them appends audit entries) the
primary node is killed with SIGKILL. Then:

- while the database is away every request answers a clean 503 problem (never a 500, never
  a success), and both processes answer successes again within RECOVERY_BOUND_S of the kill
  (the figure is printed and recorded in the report);
- every write that was answered with success is on the new primary: each access token still
  works, each issued credential and each verification session is there with its audit entry;
- `kluis audit verify` passes; the background worker signs checkpoints again; the LISTEN
  connection is back, so a presentation wakes a waiting platform at once.

The PostgreSQL run of the suite (`make test-postgres`) runs it, and there a missing
pg_autoctl fails it; the SQLite run skips it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.databases import backend
from tests.support.mixed_load import UNLIMITED_ENV, MixedLoad, area_query
from tests.support.pg_auto_failover import Formation, missing, running_formation
from tests.support.server import LiveServer, run_server
from tests.support.wallet import Wallet

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="a PostgreSQL failover: the PostgreSQL run has it"
)

RECOVERY_BOUND_S = 20.0  # measured: about 5 s (docs/operators.md, "High availability")
WORKERS = 4
LOAD_BEFORE_KILL_S = 3.0
BEFORE_KILL_BOUND_S = 60.0
OPS = ("login", "issue", "present", "verify")
LOAD_AFTER_RECOVERY_S = 3.0
PROBE_EVERY_S = 0.05
FALLBACK_POLL_S = 60  # waiting platforms re-read this seldom: only a NOTIFY wakes them fast
NOTIFY_BOUND_S = 3.0
OFFERS = 600
SERVER_ENV = {
    **UNLIMITED_ENV,
    "KLUIS_VERIFIER_FALLBACK_POLL": str(FALLBACK_POLL_S),
    "KLUIS_AUDIT_CHECKPOINT_INTERVAL": "1",
    "KLUIS_OUTBOX_INTERVAL": "0.5",
}


@pytest.fixture(scope="module")
def formation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Formation]:
    reason = missing()
    if reason:  # this is the PostgreSQL run: the failover test must run here
        pytest.fail(f"the failover test cannot run: {reason}")
    with running_formation(keep_logs=tmp_path_factory.mktemp("formation-logs")) as formation:
        yield formation


@dataclass
class Answer:
    at: float
    server: str
    status: int  # 0: no HTTP answer at all
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 201


@dataclass
class Probe:
    """Every PROBE_EVERY_S, a platform creates a verification session on each server (a
    write and an audit append): when successes stop and start again, and what the failures
    answered."""

    load: MixedLoad
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=10, auth=self.load.auth) as http:
            while not self.stop.is_set():
                for server in self.load.servers:
                    self.answers.append(self._create(http, server.url))
                self.stop.wait(PROBE_EVERY_S)

    def _create(self, http: httpx.Client, base: str) -> Answer:
        body = {"purpose": "Probe", "dcql_query": area_query(base)}
        try:
            response = http.post(base + "/verifier/sessions", json=body)
        except httpx.TransportError:
            return Answer(time.monotonic(), base, 0)
        if response.status_code == 201:
            self.load.acknowledged.add("sessions_created", response.json()["session_id"])
            return Answer(time.monotonic(), base, 201)
        problem = None
        if response.headers.get("content-type") == "application/problem+json":
            problem = response.json().get("type")
        return Answer(time.monotonic(), base, response.status_code, problem)

    def first_success_after(self, moment: float, base: str) -> float:
        after = [a.at for a in self.answers if a.server == base and a.at > moment and a.ok]
        return min(after, default=float("inf"))


@dataclass
class Load:
    """WORKERS threads doing the mixed load until stopped: (when it ended, op, succeeded)."""

    load: MixedLoad
    outcomes: list[tuple[float, str, bool]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def ops(self) -> list[tuple[str, Callable[[str, int], str | None]]]:
        load = self.load
        return [
            ("login", load.login),
            ("issue", load.issue),
            ("present", load.present),
            ("verify", load.verify),
        ]

    def worker(self, w: int) -> None:
        ops, n = self.ops(), w
        while not self.stop.is_set():
            name, op = ops[n % len(ops)]
            try:
                name = op(self.load.base(n), n) or name
                ok = True
            except Exception:  # unacknowledged: a 503 during the switch (the server logs say)
                ok = False
            self.outcomes.append((time.monotonic(), name, ok))
            n += WORKERS

    def succeeded(self, name: str, after: float, before: float = float("inf")) -> int:
        return sum(1 for t, op, ok in self.outcomes if op == name and ok and after < t < before)


def notify_wakes_a_waiting_platform(load: MixedLoad) -> float:
    """Seconds from a wallet's presentation to the platform's long-poll answering `done`;
    with a fallback poll of a minute, only the LISTEN connection makes this fast."""
    base = load.servers[0].url
    with Wallet.over_http(base) as wallet:
        wallet.credentials.append(load._holder_credential())
        body = {"purpose": "Wake-up", "dcql_query": area_query(base)}
        created = httpx.post(base + "/verifier/sessions", json=body, auth=load.auth).json()
        wallet.resolve_request(created["qr_payload"])  # scanned: the long-poll waits for done
        answered: dict[str, Any] = {}

        def long_poll() -> None:
            response = httpx.get(
                created["status_url"], params={"wait": "30"}, auth=load.auth, timeout=40
            )
            answered.update(response.json(), at=time.monotonic())

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(0.5)  # the long-poll is waiting
        assert wallet.present(created["qr_payload"]).status_code == 200
        presented = time.monotonic()
        poller.join(timeout=40)
    assert answered["status"] == "done"
    return float(answered["at"] - presented)


def audit_index(server: LiveServer) -> tuple[dict[tuple[str, str], int], int]:
    """(event, the session or credential it names) -> the entry's index in the log; and the
    number of entries."""
    index = {}
    lines = server.cli("audit", "export").stdout.splitlines()
    for line in lines:
        exported = json.loads(line)
        entry = exported["entry"]
        for key in ("session", "credential_id"):
            if key in (entry["details"] or {}):
                index[(entry["event"], entry["details"][key])] = exported["index"]
    return index, len(lines)


def server_log_problems(server: LiveServer) -> list[str]:
    """Requests answered with a 5xx other than 503, and unhandled errors."""
    bad = []
    for line in server.log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        status = entry.get("status")
        if entry.get("msg") == "unhandled error" or (
            isinstance(status, int) and status >= 500 and status != 503
        ):
            bad.append(line[:300])
    return bad


def test_kluis_continues_on_the_new_primary_and_loses_no_acknowledged_write(
    formation: Formation, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    url = formation.database_url()
    data = tmp_path / "data"
    with (
        run_server(data, url, **SERVER_ENV) as first,
        # Each process here has its own issuer URL (its port), and so its own checkpoint key;
        # one deployment's processes share one. Only the first signs checkpoints.
        run_server(data, url, "second.log", **SERVER_ENV, KLUIS_OUTBOX_WORKER="false") as second,
    ):
        # One worker thread does nothing but issue (about 20 a second on a quiet machine):
        # enough offers that they last through the load before the kill, the outage and the
        # load after it, or "issuance went on on the new primary" cannot be seen.
        load = MixedLoad((first, second), residents=2, offers=OFFERS)
        assert notify_wakes_a_waiting_platform(load) < NOTIFY_BOUND_S  # listener started
        probe, driver = Probe(load), Load(load)
        threads = [threading.Thread(target=probe.run)]
        threads += [threading.Thread(target=driver.worker, args=(w,)) for w in range(WORKERS)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(LOAD_BEFORE_KILL_S)
            # on a busy machine a first login can take longer: every kind of operation has
            # to have succeeded on the old primary before it is killed
            started = time.monotonic()
            while time.monotonic() - started < BEFORE_KILL_BOUND_S and not all(
                driver.succeeded(op, after=0) for op in OPS
            ):
                time.sleep(0.1)
            old_primary = formation.primary()
            killed = time.monotonic()
            old_primary.kill()
            formation.wait_for(
                "failed over",
                lambda: formation.primary().name != old_primary.name,
                RECOVERY_BOUND_S,
            )
            promoted = time.monotonic()
            deadline = killed + RECOVERY_BOUND_S
            while time.monotonic() < deadline and not all(
                any(a.ok and a.at > promoted for a in probe.answers if a.server == s.url)
                for s in load.servers
            ):
                time.sleep(0.1)
            time.sleep(LOAD_AFTER_RECOVERY_S)
        finally:
            probe.stop.set()
            driver.stop.set()
            for thread in threads:
                thread.join(timeout=60)

        # -- service answered successes again, within the bound; failures were clean 503s --
        recovered = {
            s.url: probe.first_success_after(promoted, s.url) - killed for s in load.servers
        }
        record_property("failover_seconds", {k: round(v, 2) for k, v in recovered.items()})
        record_property("promotion_seconds", round(promoted - killed, 2))
        again = ", ".join(f"{u} answers again after {s:.1f} s" for u, s in recovered.items())
        print(f"\nfailover: new primary after {promoted - killed:.1f} s; {again}")
        assert max(recovered.values()) < RECOVERY_BOUND_S
        failures = [a for a in probe.answers if not a.ok]
        assert failures, "the probe never saw the outage"
        assert {(a.status, a.problem) for a in failures} == {(503, "urn:kluis:problem:unavailable")}
        for server in load.servers:
            assert server.process.poll() is None
            assert server_log_problems(server) == []

        # -- the load went on on the new primary: logins, issuance, presentations ------------
        for op in OPS:
            assert driver.succeeded(op, after=0, before=killed) > 0, op
            assert driver.succeeded(op, after=promoted) > 0, op

        # -- every acknowledged write is on the new primary ----------------------------------
        acked = load.acknowledged
        audit, size = audit_index(first)
        with psycopg.connect(formation.primary().url(), connect_timeout=5) as conn:
            issued = dict(
                conn.execute(
                    "SELECT status_list_id || ':' || status_idx, id FROM issued_credentials"
                ).fetchall()
            )
            sessions = {row[0] for row in conn.execute("SELECT id FROM verifier_sessions")}
        expected = [("verifier.session_created", s) for s in acked.sessions_created]
        expected += [("verifier.session_cancelled", s) for s in acked.sessions_cancelled]
        expected += [("verifier.presented", s) for s in acked.sessions_presented]
        assert set(acked.issued_credentials) <= set(issued)
        expected += [("attestation.issued", issued[c]) for c in acked.issued_credentials]
        assert [e for e in expected if e not in audit] == []
        # sessions are purged only after their lifetime (300 s): every one is still there
        assert set(acked.sessions_created) <= sessions
        with httpx.Client(timeout=10) as http:
            for token in acked.access_tokens:
                info = http.get(
                    first.url + "/userinfo", headers={"Authorization": f"Bearer {token}"}
                )
                assert info.status_code == 200, info.text

        # -- the log verifies; the worker signs checkpoints again; LISTEN is back ------------
        verified = first.cli("audit", "verify", check=False)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        formation.wait_for("checkpointed", lambda: _checkpointed(formation) >= size, 15)
        woke = notify_wakes_a_waiting_platform(load)
        record_property("notify_after_failover_seconds", round(woke, 2))
        assert woke < NOTIFY_BOUND_S
        print(
            f"acknowledged: {len(acked.access_tokens)} logins, "
            f"{len(acked.issued_credentials)} credentials, {len(acked.sessions_created)} "
            f"sessions ({len(acked.sessions_presented)} presented); {len(expected)} of the "
            f"{size} audit entries were acknowledged to the load, and all are there"
        )


def _checkpointed(formation: Formation) -> int:
    with psycopg.connect(formation.primary().url(), connect_timeout=2) as conn:
        row = conn.execute("SELECT coalesce(max(tree_size), 0) FROM audit_checkpoints").fetchone()
    return int(row[0]) if row else 0
