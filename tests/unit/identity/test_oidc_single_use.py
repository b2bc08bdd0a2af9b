"""One-time things stay one-time under concurrent requests (run on PostgreSQL in CI)."""

from __future__ import annotations

import datetime as dt

from pydantic import SecretStr

from core.db import Database, utcnow
from core.errors import InvalidGrant
from identity.oidc import tokens
from identity.oidc.authorize import AuthParams, issue_code
from identity.oidc.claims import RequestedClaims
from identity.oidc.clients import ClientSpec, create_client
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


def test_concurrent_code_exchange_succeeds_once(fresh_database: str, tmp_path: object) -> None:
    rt = _runtime(fresh_database, tmp_path)
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
            scopes={"openid"},
            code_challenge=challenge,
            claims=RequestedClaims(frozenset(), frozenset(), frozenset()),
        )
        location = issue_code(
            session,
            provider,
            params,
            account_id="acct-1",
            sid="sid-1",
            auth_time=utcnow() - dt.timedelta(seconds=5),
            acr="urn:kluis:acr:password",
            amr=["pwd"],
        )
        client_id = client.client_id
    code = query_of(location)["code"]
    form = {"code": code, "code_verifier": verifier, "redirect_uri": "https://c.example/cb"}

    def exchange() -> dict[str, object]:
        with db.session() as session:
            from identity.oidc.clients import get_client

            c = get_client(session, client_id)
            assert c is not None
            body = tokens.exchange_code(session, provider, c, form)
            session.commit()
            return body

    results, errors = race(exchange, THREADS)
    db.dispose()
    assert len(results) + len(errors) == THREADS
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1 and all(isinstance(e, InvalidGrant) for e in errors), errors
