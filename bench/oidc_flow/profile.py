"""Where the OIDC SSO flow's and the refresh grant's time goes: SQL statements, transactions
and a cProfile breakdown per endpoint, from N in-process flows (deterministic where the wall
clock of a shared machine is not).

    .venv/bin/python bench/oidc_flow/profile.py -n 200
    KLUIS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/oidc_flow/profile.py -n 200

The app runs on a fresh database (SQLite file, or a fresh schema on PostgreSQL) and is driven
through httpx's ASGI transport. Sync endpoints and dependencies are run in the calling thread
(not anyio's thread pool), so that one cProfile sees the whole request: middleware, routing,
endpoint and database. Categories come from the cumulative time of chosen functions and may
overlap (an audit append's own SQL is in "audit append" and in "DB"); the rest is "other".
"""

# ruff: noqa: E402  (the imports follow the sys.path fix below)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, and its name would shadow the
# standard library's `profile` (which cProfile imports): put the repository there instead.
sys.path[0] = str(Path(__file__).resolve().parents[2])

import argparse
import asyncio
import collections
import contextlib
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event

from bench.oidc_flow.drivers import BENCH_DB_ENV, fresh_database
from service import migrate
from service.app import create_app_from_runtime
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from tests.support.forms import pkce_pair
from tests.support.oidc import auth_params, code_flow, make_resident, make_rp

ISSUER = "http://testserver"
SECRET = "bench-only-key-encryption-material-0123456789abcdef"
ALLOW = ["email", "email_verified", "name", "preferred_username"]

# category -> functions (file suffix, function name) whose cumulative time is the category's.
# Calls of such a function from another function of its set, or from one of NESTED, are not
# counted again. Categories may still overlap: "audit append" includes its own SQL.
CATEGORIES: dict[str, tuple[tuple[str, str], ...]] = {
    "RSA signing": (("jwt/algorithms.py", "sign"),),
    "SQL: SQLAlchemy + driver": (
        ("sqlalchemy/orm/session.py", "execute"),
        ("sqlalchemy/orm/session.py", "scalar"),
        ("sqlalchemy/orm/session.py", "scalars"),
        ("sqlalchemy/orm/session.py", "get"),
        ("sqlalchemy/orm/session.py", "flush"),
        ("sqlalchemy/orm/session.py", "_prepare_impl"),
        # Core statements run on the session's connection (Connection.execute), not through it
        ("sqlalchemy/engine/base.py", "execute"),
        ("sqlalchemy/engine/base.py", "_commit_impl"),
        ("sqlalchemy/engine/base.py", "_begin_impl"),
    ),
    "  of which the driver (statements, BEGIN, COMMIT)": (
        ("sqlite3.Cursor", "execute"),
        ("sqlite3.Connection", "commit"),
        ("psycopg/cursor.py", "execute"),
        ("psycopg/connection.py", "commit"),
    ),
    "audit append (incl. its SQL)": (("audit/record.py", "record_many"),),
    "key unwrap / HKDF": (
        ("keys/kek.py", "unseal"),
        ("keys/crypto.py", "derive_key"),
    ),
    "config / object construction": (
        ("keys/kek.py", "for_purpose"),
        ("keys/signing.py", "statuses"),
        ("identity/accounts/service.py", "from_settings"),
    ),
    "template / JSON": (
        ("jinja2/environment.py", "render"),
        ("starlette/responses.py", "render"),
        ("json/__init__.py", "loads"),
    ),
}
NESTED = {
    "_autoflush",
    "load_on_pk_identity",
    "_connection_commit_impl",
    # the ORM's own calls of Connection.execute (counted already as Session.execute / flush)
    "_execute_internal",
    "orm_execute_statement",
    "_emit_insert_statements",
    "_emit_update_statements",
    "_emit_delete_statements",
}
SERVER = ("fastapi/applications.py", "__call__")
OTHER = "other: routing, FastAPI, middleware, domain code"


async def _same_thread(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
    return func(*args)


@contextlib.contextmanager
def counting(engine: Any) -> Iterator[dict[str, collections.Counter[str]]]:
    """SQL statements (reads/writes) and commits per endpoint label (`counts["now"]`)."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    current = {"label": "setup"}

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        kind = "reads" if verb in ("SELECT", "WITH", "PRAGMA") else "writes"
        if verb == "WITH" and any(w in statement for w in ("INSERT ", "UPDATE ", "DELETE ")):
            kind = "writes"  # a data-modifying WITH (PostgreSQL)
        if verb in ("BEGIN", "SAVEPOINT", "RELEASE"):
            kind = "begins" if verb == "BEGIN" else "other"
        counts[current["label"]][kind] += 1
        if current.get("trace") == current["label"]:
            print(f"  [{current['label']}] {' '.join(statement.split())[:160]}")

    def on_commit(conn: Any) -> None:
        counts[current["label"]]["commits"] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    counts["_current"] = current  # type: ignore[assignment]
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def _matches(entry: tuple[str, int, str], suffix: str, function: str) -> bool:
    filename, _line, name = entry
    if name.startswith("<method"):  # a C method: "{method 'execute' of 'sqlite3.Cursor' ...}"
        return f"'{function}'" in name and suffix in name
    return name == function and suffix in filename.replace("\\", "/")


def breakdown(profile: cProfile.Profile) -> dict[str, float]:
    """Cumulative seconds per category, "other" and the server's total (the ASGI app)."""
    raw: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals = dict.fromkeys(CATEGORIES, 0.0)
    server = 0.0
    for entry, (_cc, _nc, _tt, ct, callers) in raw.items():
        if _matches(entry, *SERVER):
            server += ct - sum(c[3] for k, c in callers.items() if _matches(k, *SERVER))
        for category, functions in CATEGORIES.items():
            if not any(_matches(entry, s, f) for s, f in functions):
                continue
            nested = sum(
                c[3]
                for caller, c in callers.items()
                if caller[2] in NESTED or any(_matches(caller, s, f) for s, f in functions)
            )
            totals[category] += ct - nested
    counted = sum(v for k, v in totals.items() if not k.startswith(" "))
    totals[OTHER] = server - counted
    totals["total"] = server
    return totals


class Flows:
    def __init__(self, http: httpx.AsyncClient, rp: Any, counts: Any) -> None:
        self.http, self.rp, self.counts = http, rp, counts
        self.refresh_token = ""

    def label(self, name: str) -> None:
        self.counts["_current"]["label"] = name

    async def sso(self) -> None:
        verifier, challenge = pkce_pair()
        self.label("authorize")
        response = await self.http.get("/authorize", params=auth_params(self.rp, challenge))
        location = response.headers["location"]
        assert location.startswith(self.rp.redirect_uri), location
        code = parse_qs(urlsplit(location).query)["code"][0]
        self.label("token (code)")
        tokens = await self.http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.rp.redirect_uri,
                "code_verifier": verifier,
            },
            auth=self.rp.basic(),
        )
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        self.refresh_token = body["refresh_token"]
        self.label("userinfo")
        info = await self.http.get(
            "/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert info.status_code == 200 and "email" in info.json(), info.text
        self.label("idle")

    async def refresh(self) -> None:
        self.label("token (refresh)")
        response = await self.http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            auth=self.rp.basic(),
        )
        assert response.status_code == 200, response.text
        self.refresh_token = response.json()["refresh_token"]
        self.label("idle")


async def measure(app: Any, rp: Any, cookies: httpx.Cookies, counts: Any, n: int) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=ISSUER, cookies=cookies, follow_redirects=False
    ) as http:
        flows = Flows(http, rp, counts)
        await flows.sso()  # warm-up: caches, compiled statements (not counted below)
        await flows.refresh()
        for label in [k for k in counts if k != "_current"]:
            del counts[label]
        results = {}
        for name, operation in (("sso", flows.sso), ("refresh", flows.refresh)):
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            for _ in range(n):
                await operation()
            profile.disable()
            results[name] = (time.perf_counter() - started, breakdown(profile), profile)
        return results


async def trace(app: Any, rp: Any, cookies: httpx.Cookies, counts: Any) -> None:
    """Prints the statements of one SSO flow and one refresh grant (after a warm-up of each)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=ISSUER, cookies=cookies, follow_redirects=False
    ) as http:
        flows = Flows(http, rp, counts)
        await flows.sso()
        await flows.refresh()
        current = counts["_current"]
        print("\nStatements of one SSO flow and one refresh grant:")
        for operation in (flows.sso, flows.refresh):
            current["trace"] = None
            original = flows.label

            def label(name: str, original: Any = original) -> None:
                current["trace"] = name
                original(name)

            flows.label = label  # type: ignore[method-assign]
            await operation()
            flows.label = original  # type: ignore[method-assign]
        current["trace"] = None


@contextlib.contextmanager
def in_process_kluis() -> Iterator[tuple[Runtime, FastAPI]]:
    """Kluis in this process on a fresh, migrated database (SQLite, or a schema of
    `KLUIS_BENCH_DATABASE_URL`) with its signing keys: the runtime and the app, for the
    profiles of `oidc_flow` and `verifier`."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(Path(tmp), os.environ.get(BENCH_DB_ENV) or None) as url,
    ):
        migrate.upgrade(url)
        settings = Settings(  # type: ignore[call-arg]
            mode="development",
            issuer=ISSUER,
            data_dir=Path(tmp) / "data",
            database_url=url,
            secret_key=SecretStr(SECRET),
            log_level="WARNING",
            outbox_worker=False,
        )
        runtime = build_runtime(settings)
        app = create_app_from_runtime(runtime)
        with runtime.db.transaction() as session:
            runtime.keyring.ensure_keys(session)
        try:
            yield runtime, app
        finally:
            runtime.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="flows and refresh grants each")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    parser.add_argument(
        "--trace", action="store_true", help="print the SQL of one operation of each endpoint"
    )
    args = parser.parse_args(argv)
    anyio.to_thread.run_sync = _same_thread  # type: ignore[assignment]
    with in_process_kluis() as (runtime, app):
        with counting(runtime.db.engine) as counts:
            with TestClient(app, base_url=ISSUER) as browser, runtime.db.session() as session:
                rp = make_rp(session)
                make_resident(runtime, session, browser)
                code_flow(browser, rp, allow=ALLOW)  # the one interactive consent
                cookies = httpx.Cookies({c.name: c.value or "" for c in browser.cookies.jar})
            if args.trace:
                asyncio.run(trace(app, rp, cookies, counts))
            results = asyncio.run(measure(app, rp, cookies, counts, args.n))
        backend = runtime.db.dialect
    print(f"\nKluis in-process, {backend}, {args.n} operations each (after one warm-up)\n")
    print("| endpoint | SQL statements / request | reads | writes | BEGIN | commits |")
    print("|---|---|---|---|---|---|")
    for label in ("authorize", "token (code)", "userinfo", "token (refresh)"):
        c = counts[label]
        total = c["reads"] + c["writes"]
        print(
            f"| {label} | {total / args.n:.1f} | {c['reads'] / args.n:.1f} | "
            f"{c['writes'] / args.n:.1f} | {c['begins'] / args.n:.1f} | "
            f"{c['commits'] / args.n:.1f} |"
        )
    print(
        "\nServer time per operation, ms (share); cProfile on, so absolute figures are inflated:\n"
    )
    print("| category | sso flow | refresh grant |")
    print("|---|---|---|")
    sso, ref = results["sso"][1], results["refresh"][1]
    for category in (*CATEGORIES, OTHER, "total"):
        a, b = sso[category] * 1000 / args.n, ref[category] * 1000 / args.n
        print(
            f"| {category} | {a:.2f} ({a / (sso['total'] * 1000 / args.n):.0%}) | "
            f"{b:.2f} ({b / (ref['total'] * 1000 / args.n):.0%}) |"
        )
    print(
        f"\nwall with profiler: sso {results['sso'][0] * 1000 / args.n:.1f} ms, "
        f"refresh {results['refresh'][0] * 1000 / args.n:.1f} ms (indicative only)"
    )
    # Python function calls do not depend on how busy the machine is: a steadier measure of
    # the work than the times (it includes the in-process httpx client, the same in every run).
    calls = {name: pstats.Stats(results[name][2]).total_calls / args.n for name in results}
    print(
        f"Python function calls per operation (server and in-process client): "
        f"sso {calls['sso']:.0f}, refresh {calls['refresh']:.0f}"
    )
    if args.top:
        for name in ("sso", "refresh"):
            print(f"\n--- {name}: top {args.top} by cumulative time ---")
            pstats.Stats(results[name][2]).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
