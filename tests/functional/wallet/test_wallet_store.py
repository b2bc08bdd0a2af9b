"""The built-in wallet's store: an open offer kept from /account with its transaction code
(through the OpenID4VCI domain functions, key-bound), listed as metadata only, encrypted under
the resident's data key so that erasure shreds it."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import AttestationConfig, create_offer
from attestations.models import CredentialOffer, IssuedCredential
from attestations.sdjwt import HeldSdJwt, public_jwk
from attestations.wallet import attested_claims, held_credentials, usable_credentials
from attestations.wallet.models import WalletCredential
from audit.models import AuditEntry
from rights.erasure import execute_erasure
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.wallet.conftest import IssueToWallet
from tests.support.attestations import INPUTS
from tests.support.oidc import Resident, hidden_fields
from tests.support.pages import shows

CLAIM_VALUES = ("1087", "GM0363", "Amsterdam", "registry")


def _offer(runtime: Runtime, session: Session, resident: Resident) -> tuple[str, str]:
    created = create_offer(
        session,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=resident.account_id,
        type_id="postcode",
        claims=INPUTS["postcode"],
        actor="operator:cli",
    )
    session.commit()
    return created.offer_id, created.tx_code


def _keep(client: TestClient, offer_id: str, tx_code: str, **overrides: str) -> str:
    page = client.get("/account")
    assert page.status_code == 200
    form = {**hidden_fields(page.text), "offer_id": offer_id, "tx_code": tx_code, **overrides}
    form = {k: v for k, v in form.items() if k in ("csrf_token", "offer_id", "tx_code")}
    response = client.post("/account/wallet/keep", data=form, follow_redirects=False)
    # where a kept offer leads, or the status of a refusal: each caller says which it expects
    return (
        response.headers["location"] if response.status_code == 303 else str(response.status_code)
    )


def test_resident_keeps_an_open_offer_in_the_built_in_wallet_with_the_transaction_code(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    offer_id, tx_code = _offer(runtime, session, resident)
    page = client.get("/account")
    assert 'action="/account/wallet/keep"' in page.text and offer_id in page.text

    assert _keep(client, offer_id, tx_code) == "/account?wallet=kept#wallet"

    [held] = held_credentials(session, resident.account_id)
    assert held.type == "postcode" and held.state == "valid"
    [usable] = usable_credentials(session, runtime.subject_keys, resident.account_id)
    sd_jwt = HeldSdJwt.parse(usable.sd_jwt)
    assert sd_jwt.claims["postcode_area"] == "1087"
    # key-bound to the key the wallet holds
    assert sd_jwt.claims["cnf"]["jwk"] == dict(public_jwk(usable.holder_key.public_key()))
    assert session.get(CredentialOffer, offer_id).used_at is not None  # type: ignore[union-attr]
    page = client.get("/account?wallet=kept")
    assert 'data-state="valid"' in page.text and "data-wallet-credential" in page.text
    wallet_html = page.text[page.text.index('id="wallet"') :]
    assert not any(shows(wallet_html, value) for value in CLAIM_VALUES)


def test_wrong_transaction_code_is_counted_and_keeps_nothing(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    offer_id, tx_code = _offer(runtime, session, resident)
    wrong = "000000" if tx_code != "000000" else "111111"
    back = _keep(client, offer_id, wrong)
    assert back == f"/account?wallet=wrong_code&offer={offer_id}#tx-{offer_id}"
    # the error stands at that offer's own code field, which says it is wrong
    page = client.get(back.split("#")[0]).text
    field = page[page.index(f'<label for="tx-{offer_id}">') :].split("</form>")[0]
    assert f'id="tx-{offer_id}-error"' in field and 'aria-invalid="true"' in field
    assert f'aria-describedby="tx-{offer_id}-error"' in field
    assert 'data-wallet-status="wrong_code"' not in page  # not far away in another section
    session.expire_all()
    assert session.get(CredentialOffer, offer_id).failed_tx_attempts == 1  # type: ignore[union-attr]
    assert held_credentials(session, resident.account_id) == []


def test_keeping_needs_the_csrf_token_and_the_residents_own_offer(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    offer_id, tx_code = _offer(runtime, session, resident)
    assert _keep(client, offer_id, tx_code, csrf_token="forged") == "403"
    assert _keep(client, "someone-elses-offer", tx_code) == "/account?wallet=gone#wallet"
    assert held_credentials(session, resident.account_id) == []


def test_held_credentials_are_encrypted_and_erasure_shreds_them(
    runtime: Runtime, session: Session, resident: Resident, to_wallet: IssueToWallet
) -> None:
    [row] = to_wallet("postcode")
    stored = session.get(WalletCredential, row.id)
    assert stored is not None
    for value in (*CLAIM_VALUES, "BEGIN PRIVATE KEY"):
        assert value.encode() not in stored.sd_jwt_enc + stored.holder_key_enc
    assert (
        attested_claims(session, runtime.subject_keys, resident.account_id)["postcode_area"]
        == "1087"
    )
    runtime.subject_keys.destroy(session, resident.account_id)
    assert usable_credentials(session, runtime.subject_keys, resident.account_id) == []
    assert attested_claims(session, runtime.subject_keys, resident.account_id) == {}


def test_storing_is_audited_without_claim_values(
    session: Session, resident: Resident, to_wallet: IssueToWallet
) -> None:
    [row] = to_wallet("postcode")
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "wallet.credential_stored")
    ).all()
    assert [json.loads(e.entry)["details"]["wallet_credential"] for e in entries] == [row.id]
    issued = session.get(IssuedCredential, row.issued_credential_id)
    assert issued is not None and issued.account_id == resident.account_id
    assert not any(shows(e.entry, v) for e in entries for v in CLAIM_VALUES)


def test_the_residents_export_lists_the_built_in_wallet_as_metadata(
    client: TestClient, resident: Resident, to_wallet: IssueToWallet
) -> None:
    [row] = to_wallet("postcode")
    export = client.get("/account/export")
    assert export.status_code == 200
    [held] = export.json()["attestations"]["built_in_wallet"]
    assert held["id"] == row.id and held["type"] == "postcode" and held["state"] == "valid"
    assert not any(shows(export.text, value) for value in CLAIM_VALUES)


def test_erasure_deletes_the_built_in_wallet_and_revokes_its_credentials(
    runtime: Runtime, session: Session, resident: Resident, to_wallet: IssueToWallet
) -> None:
    [row] = to_wallet("postcode")
    issued_id = row.issued_credential_id
    execute_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        requested_by="operator",
        actor="operator:cli",
    )
    session.commit()
    assert session.scalars(select(WalletCredential)).all() == []
    issued = session.get(IssuedCredential, issued_id)
    assert issued is not None and issued.revoked_at is not None and issued.account_id is None
