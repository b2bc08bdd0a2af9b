"""`kluis audit …`: verify the tamper-evident log, sign checkpoints, prove and export."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import sys
from typing import IO, Protocol

import click

from audit.log import AuditLog, export_entries, verify_database
from core import Database

MAX_WORKERS = 4  # the database serves every range process as well
# On PostgreSQL each range process keeps a server backend busy for about 0.4 of its own CPU
# time (bench/README.md, `audit`); where the server runs on this machine, on the same cores.
SERVER_SHARE = 0.4


def default_workers(cores: int, busy: float, local_server: bool) -> int:
    """`verify --workers` for `cores` cores of which `busy` are in use: the idle ones (at least
    1, at most MAX_WORKERS), fewer where a PostgreSQL server on this machine takes its share."""
    idle = cores - busy
    if local_server:
        idle /= 1 + SERVER_SHARE
    return max(1, min(MAX_WORKERS, round(idle)))


def server_here(database: Database) -> bool:
    """Whether `database` is PostgreSQL reached over loopback or a unix socket: its server then
    runs on this machine. (A server in another container of this machine, or behind a proxy on
    loopback, is not told apart: give `--workers` there.)"""
    url = database.engine.url
    if url.get_backend_name() != "postgresql":
        return False
    # what libpq connects to: `hostaddr` if given, else `host` (a socket directory, or the
    # hosts of a multi-host URL, each maybe with its port), else the URL's host
    given = url.query.get("hostaddr") or url.query.get("host")
    values = [given] if isinstance(given, str) else list(given or ())
    names = [_without_port(name) for value in values for name in value.split(",") if name]
    return all(_on_loopback(name) for name in names or [url.host or ""])


def _without_port(host: str) -> str:
    if host.startswith("["):  # [::1]:5432
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _on_loopback(name: str) -> bool:
    if name in ("", "localhost") or name.startswith("/"):  # the default socket, a socket dir
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # a host name
        return False


def idle_cores(database: Database | None = None, *, load: bool = True) -> int:
    """The default of `verify --workers`: the cores not already busy by the 1-minute load
    average (at least 1, at most MAX_WORKERS; fewer for a PostgreSQL `database` served from
    this machine). On a busy machine more processes than idle cores only take turns, and the
    split costs more than it saves. `load=False`: as if nothing else ran (benchmarks)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        busy = os.getloadavg()[0] if load else 0.0
    except OSError:  # no load average on this system
        busy = 0.0
    local = database is not None and server_here(database)
    return default_workers(cores or 1, busy, local)


class AuditRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def audit(self) -> AuditLog: ...


@click.group("audit")
def audit_cli() -> None:
    """The tamper-evident audit log (RFC 9162 Merkle tree, signed checkpoints)."""


@audit_cli.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    show_default="the idle cores, at most 4; fewer with PostgreSQL on this machine",
    help="Processes that scan ranges of a large log at once (1: all in this one).",
)
@click.pass_obj
def verify(runtime: AuditRuntime, as_json: bool, workers: int | None) -> None:
    """Recompute the tree from every entry and check every stored checkpoint.
    Exits 1 and names the first problem if anything was altered, removed or reordered."""
    if workers is None:
        workers = idle_cores(runtime.db)
    report = verify_database(runtime.db, runtime.audit, workers)
    root = base64.b64encode(report.root_hash or b"").decode()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "tree_size": report.tree_size,
                    "root_hash": root,
                    "checkpoints": report.checkpoints,
                    "problems": report.problems,
                }
            )
        )
    else:
        click.echo(f"tree size   {report.tree_size}")
        click.echo(f"root hash   {root}")
        click.echo(f"checkpoints {report.checkpoints} checked")
        for problem in report.problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        click.echo("OK" if report.ok else "FAILED")
    if not report.ok:
        sys.exit(1)


@audit_cli.command("checkpoint")
@click.pass_obj
def checkpoint(runtime: AuditRuntime) -> None:
    """Sign a checkpoint of the current tree and print it (a C2SP signed note)."""
    with runtime.db.transaction() as session:
        row = runtime.audit.checkpoint(session)
        note = row.note
    click.echo(note, nl=False)


@audit_cli.command("key")
@click.pass_obj
def key(runtime: AuditRuntime) -> None:
    """Print the verifier key of the checkpoints (give it to stewards and witnesses)."""
    click.echo(runtime.audit.verifier.to_string())


@audit_cli.command("prove")
@click.option("--index", type=int, help="Inclusion proof for this entry.")
@click.option("--old-size", type=int, help="Consistency proof from this tree size.")
@click.option("--size", type=int, help="Tree size to prove against (default: current).")
@click.pass_obj
def prove(runtime: AuditRuntime, index: int | None, old_size: int | None, size: int | None) -> None:
    """Print an RFC 9162 inclusion or consistency proof as JSON."""
    if (index is None) == (old_size is None):
        raise click.UsageError("give exactly one of --index or --old-size")
    from audit.merkle import MerkleError

    try:
        with runtime.db.transaction() as session:
            proof = (
                runtime.audit.inclusion(session, index, size)
                if index is not None
                else runtime.audit.consistency(session, old_size or 0, size)
            )
    except MerkleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(proof, indent=2))


@audit_cli.command("export")
@click.option("--output", type=click.File("w"), default="-", help="File (default: stdout).")
@click.pass_obj
def export(runtime: AuditRuntime, output: IO[str]) -> None:
    """Every entry as JSON Lines (entries hold no personal data)."""
    with runtime.db.transaction() as session:
        for line in export_entries(session):
            output.write(line + "\n")
