"""A PostgreSQL high-availability formation on this machine, for the failover test: Debian's
pg_auto_failover (`postgresql-15-auto-failover`) with a monitor, a primary and a synchronous
standby, on free loopback ports in a temporary directory, torn down afterwards whatever
happened.

PostgreSQL refuses to run as root, so every `pg_autoctl` runs as the `postgres` OS user with
a clean environment whose HOME and XDG directories are inside the formation's directory
(pg_autoctl keeps its state and configuration there; nothing outside is touched). Each
`pg_autoctl run` is started in a session of its own: killing that process group kills the
node whole (keeper and postgres at once, as when its machine fails) — a killed postgres
alone would only be restarted by its keeper.

The timings are those of a test, not of production: the monitor health-checks every second,
calls a node unhealthy after 2 s and waits 2 s for a failed primary to demote itself
(production defaults: 20 s and 30 s; docs/operators.md, "High availability").
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.server import free_port

PG_AUTOCTL = "/usr/bin/pg_autoctl"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
OS_USER = "postgres"
DATABASE = "kluis"
START_TIMEOUT_S = 60.0

# Small instances (pg_auto_failover sizes shared_buffers from the machine's memory).
INSTANCE_SETTINGS = {"shared_buffers": "'32MB'", "max_connections": "60"}
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": "1000",  # ms
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "2000",
    "pgautofailover.primary_demote_timeout": "2000",
    "pgautofailover.startup_grace_period": "2000",
}
KEEPER_SETTINGS = {
    "timeout.prepare_promotion_walreceiver": "1",  # s
    "timeout.prepare_promotion_catchup": "5",
}


def missing() -> str | None:
    """Why a formation cannot be started here, or None."""
    if not Path(PG_AUTOCTL).is_file():
        return "pg_autoctl not installed (apt-get install postgresql-15-auto-failover)"
    if not (PG_BIN / "pg_ctl").is_file():
        return f"PostgreSQL 15 server binaries not found in {PG_BIN}"
    if os.geteuid() != 0:
        return "the formation runs as the postgres OS user, which needs root to switch to"
    return None


@dataclass
class Instance:
    name: str
    port: int
    pgdata: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def kill(self) -> None:
        """SIGKILL the whole node at once: keeper, postmaster and backends."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Formation:
    root: Path
    monitor: Instance
    nodes: list[Instance] = field(default_factory=list)

    def _env(self) -> dict[str, str]:
        return {
            "HOME": str(self.root),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "share"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "PATH": f"{PG_BIN}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
        }

    def _command(self, *args: str) -> list[str]:
        env = [f"{k}={v}" for k, v in self._env().items()]
        return ["runuser", "-u", OS_USER, "--", "env", "-i", *env, PG_AUTOCTL, *args]

    def autoctl(self, *args: str, log: Path) -> None:
        with log.open("ab") as out:
            done = subprocess.run(
                self._command(*args), stdout=out, stderr=subprocess.STDOUT, timeout=120
            )
        if done.returncode != 0:
            raise RuntimeError(f"pg_autoctl {args[0]} {args[1]} failed:\n{tail(log)}")

    def run(self, instance: Instance) -> None:
        with instance.log_path.open("ab") as out:
            instance.process = subprocess.Popen(
                self._command("run", "--pgdata", str(instance.pgdata)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def monitor_uri(self) -> str:
        return self.monitor.url("pg_auto_failover").replace("postgres@", "autoctl_node@")

    def database_url(self) -> str:
        """Kluis's URL: every node, libpq's multi-host spelling, and only the primary will
        do (`target_session_attrs=read-write`)."""
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"postgresql+psycopg://postgres@{hosts}/{DATABASE}?target_session_attrs=read-write"

    def states(self) -> dict[str, tuple[str, str]]:
        """Each node's (reported, assigned) state, as the monitor sees them."""
        with psycopg.connect(self.monitor.url("pg_auto_failover"), connect_timeout=2) as conn:
            rows = conn.execute(
                "SELECT nodename, reportedstate::text, goalstate::text FROM pgautofailover.node"
            ).fetchall()
        return {name: (reported, goal) for name, reported, goal in rows}

    def wait_for(self, what: str, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(psycopg.Error, LookupError):
                if done():
                    return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {i.name}\n{tail(i.log_path)}" for i in self.instances)
                raise RuntimeError(f"formation: not {what} within {timeout:.0f} s\n{logs}")
            time.sleep(0.2)

    def node(self, name: str) -> Instance:
        return next(node for node in self.nodes if node.name == name)

    def primary(self) -> Instance:
        """The node that is and is meant to be the primary (`wait_primary`: one without a
        standby, as after a failover). A dead primary keeps its last reported state; the
        monitor assigns it `demoted`."""
        writable = {"primary", "wait_primary"}
        names = [n for n, states in self.states().items() if set(states) <= writable]
        if len(names) != 1:
            raise LookupError(f"no single primary now: {self.states()}")
        return self.node(names[0])

    def replication(self) -> tuple[str, list[tuple[str, str]]]:
        """On the primary: `synchronous_standby_names`, and (standby, sync_state) of each
        connected standby."""
        with psycopg.connect(self.primary().url(), connect_timeout=2) as conn:
            names = conn.execute("SHOW synchronous_standby_names").fetchone()
            rows = conn.execute(
                "SELECT application_name, sync_state FROM pg_stat_replication"
            ).fetchall()
        return (names[0] if names else ""), [(a, s) for a, s in rows]

    @property
    def instances(self) -> list[Instance]:
        return [self.monitor, *self.nodes]


def tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _append_settings(pgdata: Path, settings: dict[str, str]) -> None:
    """postgresql.auto.conf is read last, so these win over pg_auto_failover's own file."""
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.writelines(f"{name} = {value}\n" for name, value in settings.items())


def _configure_keeper(formation: Formation, node: Instance) -> None:
    for name, value in KEEPER_SETTINGS.items():
        formation.autoctl(
            "config", "set", "--pgdata", str(node.pgdata), name, value, log=node.log_path
        )


def _create_node(formation: Formation, node: Instance) -> None:
    formation.autoctl(
        "create", "postgres",
        "--pgdata", str(node.pgdata),
        "--pgport", str(node.port),
        "--pgctl", str(PG_BIN / "pg_ctl"),
        "--listen", "127.0.0.1",
        "--hostname", "127.0.0.1",
        "--name", node.name,
        "--dbname", DATABASE,
        "--monitor", formation.monitor_uri,
        "--auth", "trust",
        "--no-ssl",
        "--replication-quorum", "true",
        log=node.log_path,
    )  # fmt: skip
    _configure_keeper(formation, node)


def _stop(instances: list[Instance]) -> None:
    """SIGTERM to all at once (each pg_autoctl stops its postgres, fast), then SIGKILL what
    is left of each process group."""
    running = [i.process for i in instances if i.process is not None and i.process.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a postgres outliving its keeper
        process.wait(timeout=10)


def _release_shared_memory(instance: Instance) -> None:
    """A postmaster killed with SIGKILL leaves its small System V segment behind (its id is
    line 7 of postmaster.pid); remove it, as a restart of that node would."""
    pid_file = instance.pgdata / "postmaster.pid"
    with contextlib.suppress(OSError, IndexError, ValueError):
        key, shmid = (int(v) for v in pid_file.read_text().splitlines()[6].split())
        listing = subprocess.run(["ipcs", "-m"], capture_output=True, text=True, timeout=10)
        for line in listing.stdout.splitlines():
            fields = line.split()  # key shmid owner perms bytes nattch
            if fields[:3] == [f"0x{key:08x}", str(shmid), OS_USER] and fields[5] == "0":
                subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True, timeout=10)


@contextlib.contextmanager
def running_formation(keep_logs: Path | None = None) -> Iterator[Formation]:
    """A monitor, a primary (`node1`) and a synchronous standby (`node2`), ready: the
    primary's commits wait for the standby (`ANY 1 (…)`, sync_state quorum)."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    root = Path(tempfile.mkdtemp(prefix="kluis-ha-"))
    shutil.chown(root, OS_USER, OS_USER)
    monitor = Instance("monitor", free_port(), root / "monitor", root / "monitor.log")
    formation = Formation(root, monitor)
    try:
        formation.autoctl(
            "create", "monitor",
            "--pgdata", str(monitor.pgdata),
            "--pgport", str(monitor.port),
            "--pgctl", str(PG_BIN / "pg_ctl"),
            "--hostname", "127.0.0.1",
            "--auth", "trust",
            "--no-ssl",
            log=monitor.log_path,
        )  # fmt: skip
        _append_settings(monitor.pgdata, INSTANCE_SETTINGS | MONITOR_SETTINGS)
        formation.run(monitor)
        formation.wait_for("monitor up", lambda: formation.states() is not None, START_TIMEOUT_S)

        for n in (1, 2):
            node = Instance(f"node{n}", free_port(), root / f"node{n}", root / f"node{n}.log")
            formation.nodes.append(node)
            _create_node(formation, node)
            if n == 1:  # the standby is a base backup of the primary: it inherits these
                _append_settings(node.pgdata, INSTANCE_SETTINGS)
            formation.run(node)
            if n == 1:
                formation.wait_for(
                    "node1 single",
                    lambda: formation.states().get("node1", ("",))[0] == "single",
                    START_TIMEOUT_S,
                )

        def replicating() -> bool:
            ready = formation.states() == {
                "node1": ("primary", "primary"),
                "node2": ("secondary", "secondary"),
            }
            if not ready:
                return False
            names, standbys = formation.replication()
            return bool(names) and any(state in ("sync", "quorum") for _, state in standbys)

        formation.wait_for("replicating synchronously", replicating, START_TIMEOUT_S)
        yield formation
    finally:
        _stop(formation.instances)
        for instance in formation.nodes:
            _release_shared_memory(instance)
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for instance in formation.instances:
                if instance.log_path.exists():
                    shutil.copy(instance.log_path, keep_logs / f"pg-{instance.name}.log")
        shutil.rmtree(root, ignore_errors=True)
