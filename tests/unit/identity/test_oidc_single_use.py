"""One-time things stay one-time under concurrent requests (run on PostgreSQL in CI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from core.db import Database, utcnow
from core.errors import InvalidGrant
from identity.accounts.models import Account, AccountStatus
from identity.accounts.sessions import public_sid, start_browser_session
from identity.oidc import tokens
from identity.oidc.authorize import AuthParams, issue_code
from identity.oidc.claims import RequestedClaims
from identity.oidc.clients import ClientSpec, create_client, get_client
from identity.oidc.models import Grant, Token
from service.runtime import build_runtime
from service.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support.concurrency import race
from tests.support.oidc import pkce_pair, query_of

THREADS = 6


def _runtime(url: str, tmp_path: object) -> object:
    settings = Settings(
        issuer="http://testserver",
        database_url=url,
        data_dir=tmp_path,  # type: ignore[arg-type]
        secret_key=SecretStr(TEST_SECRET),
        outbox_worker=False,
    )
    return build_runtime(settings, Database.from_url(url))


def _code_for_new_client(rt: object, scopes: set[str]) -> tuple[str, str, str]:
    """A new client's client_id, a code for it (with `scopes`) and the code's PKCE verifier."""
    provider = rt.oidc  # type: ignore[attr-defined]
    db: Database = rt.db  # type: ignore[attr-defined]
    verifier, challenge = pkce_pair()
    with db.transaction() as session:
        rt.keyring.ensure_keys(session, ["RS256"])  # type: ignore[attr-defined]
        rt.subject_keys.create(session, "acct-1")  # type: ignore[attr-defined]
        client, _ = create_client(
            session, ClientSpec(name="C", redirect_uris=["https://c.example/cb"])
        )
        params = AuthParams(
            client=client,
            redirect_uri="https://c.example/cb",
            raw={},
            scopes=scopes,
            code_challenge=challenge,
            claims=RequestedClaims(frozenset(), frozenset(), frozenset()),
        )
        session.add(
            Account(
                id="acct-1",
                handle="bewoner-race1",
                email_verified=True,
                status=AccountStatus.ACTIVE.value,
                created_at=utcnow(),
            )
        )
        browser = start_browser_session(session, "acct-1", ttl=dt.timedelta(hours=1))
        location = issue_code(
            session,
            provider,
            params,
            account_id="acct-1",
            sid=public_sid(browser.sid),  # live: a code without offline_access needs it
            auth_time=utcnow() - dt.timedelta(seconds=5),
            acr="urn:kluis:acr:password",
            amr=["pwd"],
        )
        client_id = client.client_id
    return client_id, query_of(location)["code"], verifier


def _grant_type(rt: object, client_id: str, form: dict[str, str], grant: str) -> Any:
    """One token request of `grant` (code or refresh) in a transaction of its own."""
    provider = rt.oidc  # type: ignore[attr-defined]
    with rt.db.session() as session:  # type: ignore[attr-defined]
        client = get_client(session, client_id)
        assert client is not None
        handle = tokens.exchange_code if grant == "code" else tokens.refresh
        body = handle(session, provider, client, form)
        session.commit()
        return body


def test_concurrent_code_exchange_succeeds_once(fresh_database: str, tmp_path: object) -> None:
    rt = _runtime(fresh_database, tmp_path)
    db: Database = rt.db  # type: ignore[attr-defined]
    client_id, code, verifier = _code_for_new_client(rt, {"openid"})
    form = {"code": code, "code_verifier": verifier, "redirect_uri": "https://c.example/cb"}
    results, errors = race(lambda: _grant_type(rt, client_id, form, "code"), THREADS)
    db.dispose()
    assert len(results) + len(errors) == THREADS
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1 and all(isinstance(e, InvalidGrant) for e in errors), errors


def test_concurrent_refresh_with_one_token_rotates_once_and_revokes_the_grant(
    fresh_database: str, tmp_path: object
) -> None:
    """Refresh tokens are single use under concurrency (on PostgreSQL the consuming UPDATE and
    the grant read are one statement): one request rotates the token, the others present a
    used token, which revokes the grant with every token issued from it (RFC 9700 §4.14.2)."""
    rt = _runtime(fresh_database, tmp_path)
    db: Database = rt.db  # type: ignore[attr-defined]
    client_id, code, verifier = _code_for_new_client(rt, {"openid", "offline_access"})
    form = {"code": code, "code_verifier": verifier, "redirect_uri": "https://c.example/cb"}
    issued = _grant_type(rt, client_id, form, "code")
    refresh_form = {"refresh_token": issued["refresh_token"]}
    results, errors = race(lambda: _grant_type(rt, client_id, refresh_form, "refresh"), THREADS)
    with db.session() as session:
        grant = session.scalars(select(Grant)).one()
        live = session.scalars(select(Token).where(Token.revoked_at.is_(None))).all()
    db.dispose()
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1 and all(isinstance(e, InvalidGrant) for e in errors), errors
    assert grant.revoked_at is not None
    assert live == []
