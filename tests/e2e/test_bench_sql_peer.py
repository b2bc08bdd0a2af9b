"""The benchmark's durable peer (bench/oidc_flow/node-sql/store.mjs): node oidc-provider with a
SQL store where Kluis keeps its data. Its figures are only worth reading if it still behaves as
the in-memory peer does (a code redeemed once, a rotated refresh token's reuse revoking the
grant) and if what it acknowledges is in the database, written by the provider's own process."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bench.oidc_flow.drivers import OidcProviderSqlDriver
from bench.oidc_flow.flows import BenchRP
from tests.support import forms
from tests.support.databases import backend, server_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The peer's store (a SQLite file, or a fresh schema on the PostgreSQL test server)."""
    peer = OidcProviderSqlDriver()
    peer.database_url = server_url() if backend() == "postgresql" else None
    with peer.store(tmp_path / "store") as opened:
        assert opened is not None
        yield opened


class _OnOneStore(OidcProviderSqlDriver):
    """The peer, started on the same store each time it runs."""

    def __init__(self, store: dict[str, str]) -> None:
        super().__init__()
        self.opened = store

    @contextlib.contextmanager
    def store(self, work_dir: Path) -> Iterator[dict[str, str] | None]:
        yield self.opened


@pytest.fixture
def driver(store: dict[str, str]) -> OidcProviderSqlDriver:
    return _OnOneStore(store)


def _stored(store: dict[str, str]) -> list[tuple[str, bool]]:
    """(model, consumed) of every row the provider left in its store, read from outside."""
    query = "SELECT model, consumed_at IS NOT NULL FROM oidc_store ORDER BY model"
    if store["kind"] == "sqlite":
        with contextlib.closing(sqlite3.connect(store["path"])) as db:
            return [(model, bool(consumed)) for model, consumed in db.execute(query)]
    url = server_url()
    assert url is not None
    engine = create_engine(url, connect_args={"options": f"-csearch_path={store['schema']}"})
    try:
        with engine.connect() as conn:
            return [(row[0], bool(row[1])) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def _refresh(rp: BenchRP, token: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    return rp.http.post(rp.meta["token_endpoint"], auth=rp.basic, data=data)


@contextlib.contextmanager
def _logged_in(driver: OidcProviderSqlDriver, work_dir: Path) -> Iterator[BenchRP]:
    with driver.running(work_dir) as target:
        rp = BenchRP(target)
        try:
            rp.login(driver.first_login)
            yield rp
        finally:
            rp.close()


def test_the_durable_peer_redeems_a_code_once(
    driver: OidcProviderSqlDriver, store: dict[str, str], tmp_path: Path
) -> None:
    with _logged_in(driver, tmp_path) as rp:
        url, checks = rp.authorization_request()
        back = forms.authorize(rp.http, url, redirect_uri=rp.target.redirect_uri, interactive=False)
        tokens = rp.exchange(back.callback_url, checks)
        with pytest.raises(forms.FlowError, match="400"):
            rp.exchange(back.callback_url, checks)
        # the reuse revoked what the code had given: its tokens are deleted from the store
        assert not {"AccessToken", "RefreshToken"} & {model for model, _ in _stored(store)}
        assert _refresh(rp, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_the_durable_peer_revokes_the_grant_when_a_rotated_refresh_token_is_reused(
    driver: OidcProviderSqlDriver, store: dict[str, str], tmp_path: Path
) -> None:
    with _logged_in(driver, tmp_path) as rp:
        rp.sso_flow()
        first = rp.refresh_token
        assert first is not None
        rp.refresh()
        second = rp.refresh_token
        assert second is not None
        assert {"AccessToken", "RefreshToken"} <= {model for model, _ in _stored(store)}
        reuse = _refresh(rp, first)
        assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
        # every token issued under the grant is deleted, as the in-memory adapter deletes them
        assert not {"AccessToken", "RefreshToken"} & {model for model, _ in _stored(store)}
        after = _refresh(rp, second)
        assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_what_the_durable_peer_acknowledges_is_in_its_database(
    driver: OidcProviderSqlDriver, store: dict[str, str], tmp_path: Path
) -> None:
    with _logged_in(driver, tmp_path) as rp:
        rp.sso_flow()
        rp.refresh()
    # the provider has stopped: what it answered for is in the database
    rows = _stored(store)
    models = {model for model, _ in rows}
    assert {"Session", "Grant", "AuthorizationCode", "AccessToken", "RefreshToken"} <= models
    codes = [consumed for model, consumed in rows if model == "AuthorizationCode"]
    assert codes and all(codes)  # both codes (login, SSO flow) redeemed, and marked so
    refresh_tokens = sorted(consumed for model, consumed in rows if model == "RefreshToken")
    # the login's and the SSO flow's tokens, the first of them rotated, and the one it became
    assert refresh_tokens.count(True) == 1 and refresh_tokens.count(False) == 2
