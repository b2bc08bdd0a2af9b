"""A login by QR logs a browser in once, even when several completions race (committed data,
one connection per thread; run on PostgreSQL too)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, select

from attestations.sdjwt import HeldSdJwt
from attestations.verifier.config import VerifierConfig
from attestations.verifier.qr_login import complete_wallet_login, start_wallet_login
from attestations.verifier.response import receive_response
from core.db import Database
from identity.accounts.errors import WalletLoginGone
from identity.accounts.models import BrowserSessionRecord
from service.runtime import build_runtime
from service.settings import Settings
from tests.conftest import TEST_ISSUER, TEST_SECRET
from tests.support.concurrency import race
from tests.unit.attestations.test_single_use import THREADS
from tests.unit.attestations.test_verifier_single_use import credential

CONFIG = VerifierConfig(TEST_ISSUER, pseudonym_key=b"p" * 32)


def test_concurrent_completions_of_one_wallet_login_log_in_once(
    fresh_database: str, tmp_path: Path
) -> None:
    settings = Settings(
        issuer=TEST_ISSUER,
        database_url=fresh_database,
        data_dir=tmp_path,
        secret_key=SecretStr(TEST_SECRET),
        outbox_worker=False,
    )
    runtime = build_runtime(settings, Database.from_url(fresh_database))
    database, keyring = runtime.db, runtime.keyring
    with database.transaction() as session:
        keyring.ensure_keys(session, ["ES256"])
        issued, key = credential(session, keyring, runtime.subject_keys)
        started = start_wallet_login(session, CONFIG, return_to="/account", purpose="Inloggen")
        login_id, secret = started.login.id, started.secret
        state, nonce = started.verifier.state, started.verifier.nonce
    presentation = HeldSdJwt.parse(issued).present(
        [], holder_key=key, nonce=nonce, audience=CONFIG.client_id
    )
    with database.transaction() as session:
        form = {"state": state, "vp_token": json.dumps({"kluis_login": [presentation]})}
        receive_response(session, keyring, CONFIG, form)

    def complete() -> str:
        with database.session() as session:
            browser, _ = complete_wallet_login(
                runtime.accounts,
                session,
                keyring,
                issuer=TEST_ISSUER,
                login_id=login_id,
                secret=secret,
            )
            session.commit()
            return browser.account_id

    results, errors = race(complete, THREADS)

    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, WalletLoginGone) for e in errors), errors
    with database.transaction() as session:
        sessions = session.scalar(select(func.count()).select_from(BrowserSessionRecord))
        assert sessions == 1
    database.dispose()
