"""The operator console's signing keys (#16): every key's state, as `kluis keys list`, and a
staged rotation (CSRF, the password again) through `rotate_signing_key`, as `kluis keys
rotate`, audited as `key.rotated` with the operator's reference. Operators only."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from identity.accounts.models import Account
from identity.accounts.roles import OPERATOR_ROLE, grant_role
from identity.oidc.signing_keys import keys_rotate_cli
from keys import keys_cli
from service.runtime import Runtime
from tests.support.accounts import STRONG_PASSWORD, install_fast_accounts
from tests.support.oidc import make_resident

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ROW = re.compile(r'<tr data-kid="([^"]+)" data-alg="(\w+)" data-state="(\w+)">')
KEYS = "/console/keys"


def rotations(session: Session) -> list[tuple[str, dict[str, object]]]:
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "key.rotated").order_by(AuditEntry.idx)
    )
    return [(r.actor, json.loads(r.entry)["details"]) for r in rows]


def test_an_operator_sees_the_keys_and_rotates_one_with_the_password_again(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    accounts = install_fast_accounts(client.app)  # type: ignore[arg-type]
    resident = make_resident(runtime, session, client, email="beheer@example.org")
    assert client.get(KEYS).status_code == 404
    account = session.get(Account, resident.account_id)
    assert account is not None
    account.password_hash = accounts.passwords.hash(STRONG_PASSWORD)
    grant_role(session, runtime.subject_keys, resident.account_id, OPERATOR_ROLE, "operator:cli")
    session.commit()

    page = client.get(KEYS)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    before = _ROW.findall(page.text)
    assert {(alg, state) for _, alg, state in before} >= {("RS256", "active"), ("ES256", "active")}
    token = _CSRF.findall(page.text)[0]
    path = f"{KEYS}/rotate"
    assert client.post(path, data={"alg": "ES256", "password": STRONG_PASSWORD}).status_code == 403
    wrong = client.post(path, data={"alg": "ES256", "password": "fout", "csrf_token": token})
    assert wrong.status_code == 400 and 'id="password-error"' in wrong.text
    # the operator's choice is kept: a retry rotates the key they chose, not the first one
    assert re.findall(r'id="alg-(\w+)" name="alg" value="\w+" checked', wrong.text) == ["ES256"]
    empty = client.post(path, data={"alg": "ES256", "password": "", "csrf_token": token})
    assert empty.status_code == 400 and "Vul je wachtwoord in." in empty.text
    assert "klopt niet" not in empty.text  # nothing was typed, so nothing was wrong
    odd = client.post(path, data={"alg": "HS256", "password": STRONG_PASSWORD, "csrf_token": token})
    assert odd.status_code == 422 and rotations(session) == []
    done = client.post(
        path,
        data={"alg": "ES256", "password": STRONG_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{KEYS}?done=rotated"
    after = _ROW.findall(client.get(f"{KEYS}?done=rotated").text)
    [new] = [row for row in after if row not in before]
    assert new[1:] == ("ES256", "published")  # signs only after the publish delay
    [(actor, details)] = rotations(session)
    assert actor == f"operator:{runtime.subject_keys.reference(session, resident.account_id)}"
    assert details["kid"] == new[0] and details["alg"] == "ES256"


def test_kluis_keys_rotate_is_audited_too(runtime: Runtime, session: Session) -> None:
    keys_cli.add_command(keys_rotate_cli)  # as service.cli does
    result = CliRunner().invoke(keys_cli, ["rotate", "--alg", "RS256"], obj=runtime)
    assert result.exit_code == 0, result.output
    [(actor, details)] = rotations(session)
    assert actor == "operator:cli" and details["alg"] == "RS256"
    listed = CliRunner().invoke(keys_cli, ["list", "--json"], obj=runtime)
    assert details["kid"] in [row["kid"] for row in json.loads(listed.output)]
