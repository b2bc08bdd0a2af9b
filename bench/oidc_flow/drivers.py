"""One OPDriver per provider: how to start it on loopback, register the benchmark's client and
resident, and get through the first, interactive login + consent. Everything after that (the
measured single-sign-on flows and refresh grants) is generic: see flows.py."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.oidc_flow.flows import Target
from tests.support import forms
from tests.support.live_kluis import add_client, add_resident
from tests.support.node import ensure_node_modules
from tests.support.oidc_provider import SERVER_DIR, run_oidc_provider
from tests.support.server import LiveServer, run_server

REDIRECT_URI = "http://127.0.0.1:9/bench/callback"  # never contacted: the code is read off it
POST_LOGOUT_URI = "http://127.0.0.1:9/bench/bye"
EMAIL = "bench-resident@example.org"
PASSWORD = "bench: een lang en sterk wachtwoord"
CLAIMS = ("email", "email_verified", "name", "given_name", "family_name")
BENCH_DB_ENV = "KLUIS_BENCH_DATABASE_URL"
SQL_STORE_DIR = Path(__file__).resolve().parent / "node-sql"
NODE_PREFIX = Path("/usr")  # the distribution's Node.js: its headers under include/node


class OPDriver(ABC):
    name: ClassVar[str]

    @abstractmethod
    def running(self, work_dir: Path) -> contextlib.AbstractContextManager[Target]:
        """Start the OP, register a confidential client and a resident; yield the target."""

    @abstractmethod
    def first_login(self, http: httpx.Client, authorization_url: str, target: Target) -> httpx.URL:
        """Walk the OP's own login and consent pages; return the redirect_uri with the code."""

    @abstractmethod
    def describe(self) -> str:
        """One line: version, storage, process model."""


class KluisDriver(OPDriver):
    """Kluis via tests/support/server.py: a fresh SQLite database in the work directory, or a
    fresh schema in the PostgreSQL database named by KLUIS_BENCH_DATABASE_URL. One uvicorn
    process and RS256 ID tokens, as the peer; the variants below change one of the two."""

    name = "kluis"
    workers = 1  # `kluis serve --workers N`
    id_token_alg = "RS256"  # the client's id_token_signed_response_alg
    env: ClassVar[dict[str, str]] = {}  # more environment for `kluis serve` (oidc_flow/ab.py)

    def __init__(self) -> None:
        self.database_url = bench_database_url()

    @contextlib.contextmanager
    def running(self, work_dir: Path) -> Iterator[Target]:
        # Request logging off (WARNING): oidc-provider logs no requests either.
        env: dict[str, Any] = {"KLUIS_LOG_LEVEL": "WARNING", **self.env}
        with (
            fresh_database(work_dir, self.database_url) as url,
            run_server(work_dir / "kluis", url, workers=self.workers, **env) as server,
        ):
            add_resident(server, EMAIL, PASSWORD, name="Bench Resident")
            client = self._add_client(server)
            yield Target(
                self.name,
                server.url,
                client["client_id"],
                client["client_secret"],
                REDIRECT_URI,
                EMAIL,
                PASSWORD,
                CLAIMS,
                self.id_token_alg,
                server.process.pid,
            )

    def _add_client(self, server: LiveServer) -> dict[str, Any]:
        if self.id_token_alg == "RS256":
            return add_client(server, "Benchmark platform", REDIRECT_URI, POST_LOGOUT_URI)
        args = ["clients", "add", "--name", "Benchmark platform", "--redirect-uri"]
        args += [REDIRECT_URI, "--post-logout-redirect-uri", POST_LOGOUT_URI]
        client: dict[str, Any] = json.loads(
            server.cli(*args, "--id-token-alg", self.id_token_alg, "--json").stdout
        )
        return client

    def first_login(self, http: httpx.Client, authorization_url: str, target: Target) -> httpx.URL:
        # Kluis's form contract: form#login-form (email, password, csrf_token) and
        # form#consent-form (claims checkboxes, decision=allow); see tests/support/forms.py.
        return forms.authorize(
            http,
            authorization_url,
            redirect_uri=target.redirect_uri,
            email=target.email,
            password=target.password,
            claims_to_allow=target.claims_to_allow,
        ).callback_url

    def describe(self) -> str:
        backend = backend_of(self.database_url)
        processes = "one uvicorn process" if self.workers == 1 else f"{self.workers} processes"
        return (
            f"Kluis ({processes}: kluis serve --workers {self.workers}, {backend}, "
            f"{self.id_token_alg} ID tokens, request logs off)"
        )


class KluisTwoWorkersDriver(KluisDriver):
    """Kluis as above, served by two processes (`kluis serve --workers 2`)."""

    name = "kluis-2w"
    workers = 2


class KluisES256Driver(KluisDriver):
    """Kluis as above, with a client registered for ES256 ID tokens (P-256) instead of RS256
    from RSA-3072: what the signature costs of each flow."""

    name = "kluis-es256"
    id_token_alg = "ES256"


class OidcProviderDriver(OPDriver):
    """node oidc-provider configured like Kluis (bench/oidc_flow/node/server.mjs), with its
    default in-memory adapter: nothing is written to a database."""

    name = "oidc-provider"
    client_secret = "bench-client-secret-0123456789abcdefghijklmnop"

    @contextlib.contextmanager
    def store(self, work_dir: Path) -> Iterator[dict[str, str] | None]:
        """server.mjs's "store" setting: none, oidc-provider's in-memory default."""
        yield None

    @contextlib.contextmanager
    def running(self, work_dir: Path) -> Iterator[Target]:
        client = {
            "client_id": "bench",
            "client_secret": self.client_secret,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
        }
        account = {
            "email": EMAIL,
            "password": PASSWORD,
            "claims": {"name": "Bench Resident", "given_name": "Bench", "family_name": "Resident"},
        }
        with (
            self.store(work_dir) as store,
            run_oidc_provider(
                work_dir / self.name, clients=[client], accounts=[account], store=store
            ) as op,
        ):
            yield Target(
                self.name,
                op.issuer,
                "bench",
                self.client_secret,
                REDIRECT_URI,
                EMAIL,
                PASSWORD,
                CLAIMS,
                server_pid=op.process.pid,
            )

    def first_login(self, http: httpx.Client, authorization_url: str, target: Target) -> httpx.URL:
        # server.mjs's own interaction routes serve the same form contract as Kluis on purpose
        # (so the e2e harnesses can be tested against it); another OP would walk its own pages.
        return forms.authorize(
            http,
            authorization_url,
            redirect_uri=target.redirect_uri,
            email=target.email,
            password=target.password,
            claims_to_allow=target.claims_to_allow,
        ).callback_url

    def describe(self) -> str:
        return f"node oidc-provider {_locked_version()} (one node process, in-memory adapter)"


class OidcProviderSqlDriver(OidcProviderDriver):
    """The same oidc-provider with a durable SQL store (bench/oidc_flow/node-sql/store.mjs)
    where Kluis keeps its data: a SQLite file in WAL mode with synchronous=FULL, or a fresh
    schema in the PostgreSQL database named by KLUIS_BENCH_DATABASE_URL, each write committed
    before the provider goes on. What the peer costs when it writes what a deployment must."""

    name = "oidc-provider-sql"

    def __init__(self) -> None:
        self.database_url = bench_database_url()

    @contextlib.contextmanager
    def store(self, work_dir: Path) -> Iterator[dict[str, str] | None]:
        # better-sqlite3 compiles its addon at install; node-gyp takes the headers of the
        # distribution's Node.js instead of downloading them (nothing is downloaded here).
        headers = NODE_PREFIX / "include" / "node"
        env = {"npm_config_nodedir": str(NODE_PREFIX)} if headers.is_dir() else None
        ensure_node_modules(SQL_STORE_DIR, env)
        module = str(SQL_STORE_DIR / "store.mjs")
        if self.database_url is None:
            work_dir.mkdir(parents=True, exist_ok=True)
            path = work_dir / "oidc-provider-store.sqlite3"
            yield {"module": module, "kind": "sqlite", "path": str(path)}
            return
        url = make_url(self.database_url).set(drivername="postgresql")
        with fresh_schema(self.database_url) as schema:
            yield {
                "module": module,
                "kind": "postgres",
                "url": url.render_as_string(hide_password=False),
                "schema": schema,
            }

    def describe(self) -> str:
        backend = backend_of(self.database_url)
        return (
            f"node oidc-provider {_locked_version()} (one node process, durable SQL store on "
            f"{backend}: bench/oidc_flow/node-sql)"
        )


def _locked_version() -> str:
    lock = json.loads((SERVER_DIR / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/oidc-provider"]["version"])


DRIVERS: dict[str, type[OPDriver]] = {
    d.name: d
    for d in (
        KluisDriver,
        KluisTwoWorkersDriver,
        KluisES256Driver,
        OidcProviderDriver,
        OidcProviderSqlDriver,
    )
}
PEER = OidcProviderDriver.name
PEER_SETUP = "in-memory store, RS256 from RSA-3072, pairwise subjects, PKCE, refresh rotation"
SQL_PEER = OidcProviderSqlDriver.name
SQL_PEER_SETUP = "every write committed durably where Kluis keeps its data (node-sql/store.mjs)"


def bench_database_url() -> str | None:
    """The PostgreSQL database KLUIS_BENCH_DATABASE_URL names, or None: SQLite."""
    return os.environ.get(BENCH_DB_ENV) or None


def backend_of(database_url: str | None) -> str:
    return make_url(database_url).get_backend_name() if database_url else "sqlite"


@contextlib.contextmanager
def fresh_database(work_dir: Path, server_url: str | None) -> Iterator[str]:
    """A new SQLite file, or a new schema on the PostgreSQL server (dropped afterwards)."""
    if server_url is None:
        yield f"sqlite:///{work_dir / 'kluis-bench.sqlite3'}"
        return
    with fresh_schema(server_url) as schema:
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A new schema on the PostgreSQL server, dropped afterwards; yields its name."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
