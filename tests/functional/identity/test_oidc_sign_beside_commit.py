"""The token endpoint signs a lone request's RSA ID token in a thread while the COMMIT waits
(`core.offload.begun`): the two overlap, and the token still leaves only after the commit.
With other requests in flight, and for an ECDSA ID token (cheaper than the hop), it signs
after the commit, as before."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from core import Load, on_event_loop
from core.db import Database
from core.sqlite_writers import writer_queue
from keys import Keyring, PendingJwt
from service.runtime import Runtime
from tests.support.databases import backend, committing_database
from tests.support.oidc import RP, code_flow, exchange, make_resident, make_rp, verify_id_token

ALLOW = ["email", "name"]


@pytest.fixture
def db(fresh_database: str, keyring: Keyring) -> Iterator[Database]:
    """The app on an engine of its own, committing for real."""
    with committing_database(fresh_database, keyring) as database:
        yield database


@pytest.fixture(params=["loop", "worker"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where the token request's transaction runs: on the event loop's thread where it can
    (SQLite), or in a worker thread (as on PostgreSQL, or when SQLite's write turn is taken)."""
    if request.param == "loop" and backend() != "sqlite":
        pytest.skip("PostgreSQL's transactions run in worker threads")
    if request.param == "worker":

        @contextlib.contextmanager
        def never_now(self: Database) -> Iterator[None]:
            yield None

        monkeypatch.setattr(Database, "session_now", never_now)
    return str(request.param)


class Watch:
    """What the token request's signature and its COMMIT did, and in which order."""

    def __init__(self) -> None:
        self.signing = threading.Event()
        self.sign_threads: list[int] = []
        self.commit_threads: list[int] = []
        self.commit_on_loop: list[bool] = []
        self.signing_before_commit: list[bool] = []
        self.fail_commit = False
        self.committed = threading.Event()
        self.probe_write_turn = False
        self.write_turn_free_while_signing: list[bool] = []


@contextlib.contextmanager
def watching(db: Database, monkeypatch: pytest.MonkeyPatch, wait_s: float) -> Iterator[Watch]:
    """Each COMMIT, before it is sent, waits up to `wait_s` for a signature to begin and
    records whether one did; `Watch.fail_commit` makes the driver refuse the COMMIT."""
    watch = Watch()
    sign = PendingJwt.sign
    queue = writer_queue(db.engine)  # SQLite's write turn (None on PostgreSQL)

    def watched_sign(self: PendingJwt) -> str:
        watch.sign_threads.append(threading.get_ident())
        watch.signing.set()
        if watch.probe_write_turn and queue is not None and watch.committed.wait(5):
            # committed, not yet signed: the request must hold no write turn meanwhile
            deadline = time.monotonic() + 2
            while not (free := queue.pin()) and time.monotonic() < deadline:
                time.sleep(0.005)
            if free:
                queue.unpin()
            watch.write_turn_free_while_signing.append(free)
        return sign(self)

    def on_commit(conn: Any) -> None:
        watch.commit_threads.append(threading.get_ident())
        watch.commit_on_loop.append(on_event_loop())
        watch.signing_before_commit.append(watch.signing.wait(wait_s))

    dialect = db.engine.dialect
    commit: Any = dialect.do_commit

    def failing_commit(dbapi_connection: Any) -> None:
        # through the engine's own wrappers (SQLite's write turn is given back after it)
        commit(Refusing(dbapi_connection) if watch.fail_commit else dbapi_connection)
        watch.committed.set()

    class Refusing:
        """The driver's connection, refusing its COMMIT as a server does (a full disk):
        the transaction is gone, the error a driver error."""

        def __init__(self, pooled: Any) -> None:
            # the pool's proxy holds the driver's connection there, which the write turn
            # knows its holder by (`core.sqlite_writers._raw`)
            self.dbapi_connection = pooled.dbapi_connection

        def commit(self) -> None:
            self.dbapi_connection.rollback()
            raise dialect.loaded_dbapi.OperationalError("disk I/O error")

    monkeypatch.setattr(PendingJwt, "sign", watched_sign)
    monkeypatch.setattr(dialect, "do_commit", failing_commit)
    event.listen(db.engine, "commit", on_commit)
    try:
        yield watch
    finally:
        event.remove(db.engine, "commit", on_commit)


def _setup(
    client: TestClient, runtime: Runtime, db: Database, alg: str = "RS256"
) -> tuple[RP, str, str]:
    with db.session() as session:
        rp: RP = make_rp(session, id_token_alg=alg)
        make_resident(runtime, session, client)
    query, verifier, _ = code_flow(client, rp, allow=ALLOW)
    return rp, query["code"], verifier


@pytest.fixture
def lone(
    client: TestClient, runtime: Runtime, db: Database, monkeypatch: pytest.MonkeyPatch, path: str
) -> Iterator[tuple[Watch, RP, str, str]]:
    """A code to exchange, by a lone request (on the `path` given), with its watch."""
    rp, code, verifier = _setup(client, runtime, db)
    with watching(db, monkeypatch, wait_s=5.0) as watch:
        yield watch, rp, code, verifier


def test_a_lone_token_request_signs_while_its_commit_waits_and_answers_after_it(
    client: TestClient, lone: tuple[Watch, RP, str, str], path: str
) -> None:
    watch, rp, code, verifier = lone
    watch.probe_write_turn = True
    response = exchange(client, rp, code, verifier)
    assert response.status_code == 200, response.text
    assert watch.commit_on_loop == [path == "loop"]  # the path the test meant
    # after the COMMIT, the signature is awaited without SQLite's write turn
    assert watch.write_turn_free_while_signing == ([True] if backend() == "sqlite" else [])
    # the signature had begun, in another thread, before the COMMIT was sent
    assert watch.signing_before_commit == [True]
    assert len(watch.sign_threads) == 1
    assert watch.sign_threads[0] != watch.commit_threads[0]
    claims = verify_id_token(client, response.json()["id_token"], rp.client_id)
    assert claims["aud"] == rp.client_id and claims["sub"]


def test_a_failed_commit_sends_no_id_token_and_leaves_the_code_unused(
    client: TestClient, db: Database, lone: tuple[Watch, RP, str, str], path: str
) -> None:
    watch, rp, code, verifier = lone
    watch.fail_commit = True
    failed = exchange(client, rp, code, verifier)
    assert watch.sign_threads  # signed beside the COMMIT, and never sent
    assert failed.status_code >= 500, failed.text
    assert "id_token" not in failed.text and "access_token" not in failed.text
    assert watch.commit_on_loop == [path == "loop"]
    queue = writer_queue(db.engine)
    if queue is not None:  # SQLite's write turn was given back
        assert queue.pin()
        queue.unpin()
    watch.fail_commit = False
    again = exchange(client, rp, code, verifier)  # nothing was committed: the code unused
    assert again.status_code == 200, again.text
    assert verify_id_token(client, again.json()["id_token"], rp.client_id)["aud"] == rp.client_id


def test_with_other_requests_in_flight_the_id_token_is_signed_after_the_commit(
    client: TestClient, runtime: Runtime, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rp, code, verifier = _setup(client, runtime, db)
    monkeypatch.setattr(Load, "active", Load.active + 3)  # three others, counted as begun
    with watching(db, monkeypatch, wait_s=0.2) as watch:
        response = exchange(client, rp, code, verifier)
    assert response.status_code == 200, response.text
    assert watch.signing_before_commit == [False]  # nothing signed until it ended
    assert len(watch.sign_threads) == 1
    assert verify_id_token(client, response.json()["id_token"], rp.client_id)["aud"] == rp.client_id


def test_an_ecdsa_id_token_is_signed_after_the_commit_even_alone(
    client: TestClient, runtime: Runtime, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rp, code, verifier = _setup(client, runtime, db, alg="ES256")
    with watching(db, monkeypatch, wait_s=0.2) as watch:
        response = exchange(client, rp, code, verifier)
    assert response.status_code == 200, response.text
    assert watch.signing_before_commit == [False]
    token = response.json()["id_token"]
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert verify_id_token(client, token, rp.client_id)["aud"] == rp.client_id
