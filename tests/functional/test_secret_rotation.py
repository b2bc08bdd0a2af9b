"""Rotating the key-encryption secret, driven in-process: a resident registered before the
rotation logs in by e-mail afterwards, and the platform sees the same pairwise `sub` and the
same e-mail address; an erased resident stays erased; the audit log records the batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from core.db import Database
from identity.accounts.models import AccountStatus
from identity.accounts.service import create_account
from keys import SubjectKeyDestroyed
from keys.models import SubjectKey
from rights.erasure import execute_erasure
from service.app import create_app_from_runtime
from service.runtime import Runtime, build_runtime
from service.secret_cli import secret_cli
from tests.conftest import TEST_ISSUER, make_settings
from tests.support.accounts import STRONG_PASSWORD, fast_accounts, log_in
from tests.support.audit import discloses
from tests.support.oidc import RP, code_flow, exchange, make_rp

EMAIL = "marieke.roteer@example.org"
ERASED_EMAIL = "weg.ermee@example.org"
NEW_KEK = "functional-test-new-kek-material-0123456789abcdefgh"


def runtime_for(tmp_path: Path, database_url: str, db: Database, **overrides: Any) -> Runtime:
    runtime = build_runtime(make_settings(tmp_path / "data", database_url, **overrides), db)
    runtime.accounts = fast_accounts(runtime.accounts)
    return runtime


def platform_view(runtime: Runtime, rp: RP) -> dict[str, Any]:
    """Log in by e-mail and password in a fresh browser, then sign in at the platform: the
    `sub` it gets and what UserInfo tells it."""
    with TestClient(create_app_from_runtime(runtime), base_url=TEST_ISSUER) as browser:
        assert log_in(browser, EMAIL).status_code == 303
        query, verifier, _ = code_flow(browser, rp, allow=["email"])
        tokens = exchange(browser, rp, query["code"], verifier).json()
        info = browser.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json()
    sub = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
    assert info["sub"] == sub
    return {"sub": sub, "email": info.get("email")}


def add_resident(runtime: Runtime, session: Session, email: str) -> str:
    account = create_account(
        runtime.accounts,
        session,
        email=email,
        name=None,
        password_hash=runtime.accounts.passwords.hash(STRONG_PASSWORD),
        status=AccountStatus.ACTIVE,
        email_verified=True,
    )
    session.commit()
    return account.id


def test_a_resident_from_before_the_rotation_logs_in_after_it_with_the_same_sub(
    tmp_path: Path, database_url: str, db: Database, session: Session
) -> None:
    before = runtime_for(tmp_path, database_url, db)
    rp = make_rp(session)
    add_resident(before, session, EMAIL)
    erased = add_resident(before, session, ERASED_EMAIL)
    seen_before = platform_view(before, rp)
    assert seen_before["email"] == EMAIL
    execute_erasure(
        session, before.oidc, account_id=erased, requested_by="resident", actor="resident"
    )
    session.commit()

    after = runtime_for(tmp_path, database_url, db, key_encryption_secret=SecretStr(NEW_KEK))
    runner = CliRunner()
    pending = runner.invoke(secret_cli, ["status", "--json"], obj=after)
    assert pending.exit_code == 0, pending.output
    assert json.loads(pending.output)["under_root"] > 0
    told = runner.invoke(secret_cli, ["status"], obj=after).output
    assert "still wrapped under KLUIS_SECRET_KEY: run `kluis secret rotate`" in told
    rotated = runner.invoke(secret_cli, ["rotate", "--batch-size", "1"], obj=after)
    assert rotated.exit_code == 0, rotated.output
    assert "Nothing depends on a previous key-encryption secret" in rotated.output
    report = json.loads(runner.invoke(secret_cli, ["status", "--json"], obj=after).output)
    assert report["pending"] == 0 and report["previous_secrets_removable"]
    assert set(report["keys"]["subject keys"]) == {"current"}

    assert platform_view(after, rp) == seen_before
    assert session.get(SubjectKey, erased) is None
    with pytest.raises(SubjectKeyDestroyed):
        after.subject_keys.reference(session, erased)
    with TestClient(create_app_from_runtime(after), base_url=TEST_ISSUER) as browser:
        assert log_in(browser, ERASED_EMAIL).status_code == 400

    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "key_encryption.rewrapped")
    ).all()
    assert entries and all(e.subject_ref is None for e in entries)
    for entry in entries:
        assert not discloses(entry.entry, EMAIL) and NEW_KEK not in entry.entry
