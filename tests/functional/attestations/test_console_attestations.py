"""The operator console's attestations of one account (#16): the account page lists them by
type and state (never their values); offering one (as `kluis attestations offer`) validates the
form field by field, keeps what was typed, needs the password again and shows the QR code and
transaction code once; revoking one (as `kluis attestations revoke`) needs the password again.
Both are audited by the domain functions with the operator's reference, without claim values."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attestations import routes_console_attestations
from attestations.config import AttestationConfig
from attestations.errors import InvalidClaims
from attestations.models import IssuedCredential
from attestations.wallet.store import issue_to_wallet
from identity.accounts.models import Account, LoginFailure
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.attestations.test_console_accounts import (
    ACCOUNTS,
    actor_of,
    assert_no_personal_data,
    audited,
    operator,
    post,
    resident,
)
from tests.support.accounts import STRONG_PASSWORD
from tests.support.attestations import INPUTS
from tests.support.pages import shows

__all__ = ["operator", "resident"]  # fixtures
POSTCODE = {
    "type": "postcode",
    "postcode": "1087 AB",
    "municipality_code": "gm0363",
    "municipality_name": "Amsterdam",
    "residence_source": "desk",
}


def test_an_offer_is_validated_field_by_field_keeps_the_input_and_needs_the_password(
    client: TestClient, runtime: Runtime, session: Session, operator: str, resident: Account
) -> None:
    path = f"{ACCOUNTS}/{resident.id}/attestations/offer"
    form = client.get(path)
    assert form.status_code == 200 and 'id="type-postcode"' in form.text
    assert client.post(path, data={**POSTCODE, "password": STRONG_PASSWORD}).status_code == 403
    no_type = post(client, path, {"password": STRONG_PASSWORD})
    assert no_type.status_code == 400 and 'id="type-error"' in no_type.text
    missing = post(client, path, {**POSTCODE, "municipality_name": "", "password": STRONG_PASSWORD})
    assert missing.status_code == 400
    assert 'id="municipality_name-error"' in missing.text
    assert 'value="1087 AB"' in missing.text  # nothing typed is lost
    odd = post(client, path, {**POSTCODE, "residence_source": "gok", "password": STRONG_PASSWORD})
    assert 'id="residence_source-error"' in odd.text
    bad = post(client, path, {**POSTCODE, "postcode": "10870 AB", "password": STRONG_PASSWORD})
    assert bad.status_code == 400 and 'id="postcode-error"' in bad.text
    assert 'value="10870 AB"' in bad.text
    wrong = post(client, path, {**POSTCODE, "password": "fout"})
    assert wrong.status_code == 400 and 'id="password-error"' in wrong.text
    assert 'value="Amsterdam"' in wrong.text
    assert audited(session, "attestation.offered") == []

    done = post(client, path, {**POSTCODE, "password": STRONG_PASSWORD})
    assert done.status_code == 201
    assert done.headers["cache-control"] == "no-store"
    text = html.unescape(done.text)
    [tx_code] = re.findall(r'<strong class="code" id="tx-code">(\d+)</strong>', text)
    assert "openid-credential-offer://" in text and "/qr.svg" in text
    [(_, actor, _)] = audited(session, "attestation.offered")
    assert actor == actor_of(runtime, session, operator)
    assert_no_personal_data(session, "1087", "Amsterdam", tx_code)
    page = client.get(f"{ACCOUNTS}/{resident.id}").text
    assert 'data-offer-type="postcode"' in page and not shows(page, "1087")  # waiting, no values

    age = post(
        client, path, {"type": "age", "birth_date": "2999-01-01", "password": STRONG_PASSWORD}
    )
    assert age.status_code == 400 and 'id="birth_date-error"' in age.text
    person = post(
        client, path, {"type": "real_person", "verification": "desk", "password": STRONG_PASSWORD}
    )
    assert person.status_code == 201


def failed_logins(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(LoginFailure)) or 0


def test_every_field_error_of_an_offer_is_named_at_once_beside_its_field_in_both_languages(
    client: TestClient, session: Session, operator: str, resident: Account
) -> None:
    path = f"{ACCOUNTS}/{resident.id}/attestations/offer"
    typos = {
        **POSTCODE,
        "postcode": "12AB",
        "municipality_code": "0599",
        "residence_source": "",
        "password": STRONG_PASSWORD,
    }
    for lang, postcode_error, code_error in [
        ("nl", "Dit is geen postcode", "Dit is geen gemeentecode"),
        ("en", "This is not a postcode", "This is not a municipality code"),
    ]:
        page = post(client, f"{path}?lang={lang}", typos, token_from=path)
        assert page.status_code == 400
        text = html.unescape(page.text)
        fields = re.findall(r'<p id="([a-z_]+)-error" class="error">([^<]+)</p>', text)
        assert [name for name, _ in fields] == [
            "postcode",
            "municipality_code",
            "residence_source",
        ]  # all three in one round, each beside its own field
        assert fields[0][1].startswith(postcode_error) and fields[1][1].startswith(code_error)
        assert "12AB" not in fields[0][1] and "0599" not in fields[1][1]  # no input echoed
        assert 'value="12AB"' in text and 'value="0599"' in text  # what was typed is kept
        assert 'value="Amsterdam"' in text


def test_a_typo_in_an_offer_with_the_right_password_costs_no_login_attempt(
    client: TestClient, session: Session, operator: str, resident: Account
) -> None:
    path = f"{ACCOUNTS}/{resident.id}/attestations/offer"
    typo = {**POSTCODE, "municipality_code": "0363", "password": STRONG_PASSWORD}
    before = failed_logins(session)
    limits = client.app.state.accounts.limiter.limits  # type: ignore[attr-defined]
    for _ in range(limits.per_account + 1):
        refused = post(client, path, typo)
        assert refused.status_code == 400 and 'id="municipality_code-error"' in refused.text
    assert failed_logins(session) == before
    assert post(client, path, {**POSTCODE, "password": STRONG_PASSWORD}).status_code == 201


def test_a_right_password_leaves_no_failed_login_when_the_offer_fails_afterwards(
    client: TestClient,
    session: Session,
    operator: str,
    resident: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The password's check is committed before the offer is made: the offer's rollback
    must not bring back the attempt that was counted while the password was checked."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise InvalidClaims("refused after the password was checked")

    monkeypatch.setattr(routes_console_attestations, "create_offer", refuse)
    path = f"{ACCOUNTS}/{resident.id}/attestations/offer"
    before = failed_logins(session)
    refused = post(client, path, {**POSTCODE, "password": STRONG_PASSWORD})
    assert refused.status_code == 400 and 'id="form-error"' in refused.text
    assert failed_logins(session) == before
    wrong = post(client, path, {**POSTCODE, "password": "fout"})
    assert wrong.status_code == 400 and failed_logins(session) == before + 2  # account and IP


def test_revoking_an_attestation_needs_the_password_again_and_is_audited(
    client: TestClient, runtime: Runtime, session: Session, operator: str, resident: Account
) -> None:
    [held] = issue_to_wallet(
        session,
        runtime.keyring,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=resident.id,
        type_id="age",
        claims=INPUTS["age"],
        actor="operator:cli",
    )
    session.commit()
    credential_id = held.issued_credential_id
    page = client.get(f"{ACCOUNTS}/{resident.id}").text
    assert f'data-credential="{credential_id}" data-state="valid"' in page
    path = f"{ACCOUNTS}/{resident.id}/attestations/{credential_id}/revoke"
    assert (
        client.get(f"{ACCOUNTS}/{operator}/attestations/{credential_id}/revoke").status_code == 404
    )
    assert client.post(path, data={"password": STRONG_PASSWORD}).status_code == 403
    wrong = post(client, path, {"password": "fout"})
    assert wrong.status_code == 400 and 'id="password-error"' in wrong.text
    done = post(client, path, {"password": STRONG_PASSWORD})
    assert done.headers["location"] == f"{ACCOUNTS}/{resident.id}?done=revoked"
    session.expire_all()
    row = session.get(IssuedCredential, credential_id)
    assert row is not None and row.revoked_at is not None and row.revocation_reason == "operator"
    [(_, actor, details)] = [e for e in audited(session, "attestation.revoked")]
    assert actor == actor_of(runtime, session, operator)
    assert details == {"credential_id": credential_id, "type": "age", "reason": "operator"}
    page = client.get(f"{ACCOUNTS}/{resident.id}?done=revoked").text
    assert f'data-credential="{credential_id}" data-state="revoked"' in page
    assert_no_personal_data(session)
