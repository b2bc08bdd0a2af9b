"""The OpenID4VCI pre-authorized code flow end to end, with a spec-only test wallet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.errors import CredentialRevoked
from attestations.models import IssuedCredential
from attestations.sdjwt import HeldSdJwt
from attestations.statuslist import decode_list, revoke_credential, status_at
from attestations.vc import verify_vc
from audit.models import AuditEntry
from core.db import utcnow
from keys import Keyring
from tests.conftest import TEST_ISSUER
from tests.functional.attestations.conftest import MakeOffer
from tests.support.audit import discloses
from tests.support.qr import qr_codes_in
from tests.support.wallet import PRE_AUTH_GRANT, Wallet

NONCE = "vp-nonce-123"
AUDIENCE = "https://buurtplatform.example"


def verify(session: Session, keyring: Keyring, presentation: str) -> Any:
    return verify_vc(presentation, session, keyring, NONCE, AUDIENCE, issuer=TEST_ISSUER)


def test_a_wallet_receives_a_credential_and_proves_a_postcode_area(
    wallet: Wallet, make_offer: MakeOffer, session: Session, keyring: Keyring
) -> None:
    offer = make_offer("postcode")

    [stored] = wallet.accept(offer.offer_uri, offer.tx_code)

    result = verify(session, keyring, stored.present([("postcode_area",)], NONCE, AUDIENCE))
    assert result.type_id == "postcode"
    assert result.claims == {"postcode_area": "1087"}


def test_a_batch_of_ten_credentials_on_ten_keys(
    wallet: Wallet, make_offer: MakeOffer, session: Session, keyring: Keyring, account: str
) -> None:
    offer = make_offer("age")

    batch = wallet.accept(offer.offer_uri, offer.tx_code, count=10)

    assert len(batch) == 10
    rows = session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == account)
    ).all()
    assert len(rows) == 10 and len({r.status_idx for r in rows}) == 10
    for stored in batch:
        result = verify(session, keyring, stored.present([("age_over_18",)], NONCE, AUDIENCE))
        assert result.claims == {"age_over_18": True}
    salts = [d.salt for s in batch for d in HeldSdJwt.parse(s.credential).disclosures]
    assert len(salts) == len(set(salts))


def test_issuance_is_audited_with_type_and_ids_only(
    wallet: Wallet, make_offer: MakeOffer, session: Session
) -> None:
    offer = make_offer("postcode")
    wallet.accept(offer.offer_uri, offer.tx_code, count=2)

    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.event.like("attestation.%")).order_by(AuditEntry.idx)
    ).all()
    assert [e.event for e in entries][-3:] == [
        "attestation.offered",
        "attestation.issued",
        "attestation.issued",
    ]
    for entry in entries:
        assert not discloses(entry.entry, "1087") and not discloses(entry.entry, "Amsterdam")


def test_the_offer_document_and_its_qr_codes(client: TestClient, make_offer: MakeOffer) -> None:
    offer = make_offer("real_person")
    path = offer.credential_offer_uri.removeprefix(TEST_ISSUER)
    body = client.get(path).json()

    assert body["credential_issuer"] == TEST_ISSUER
    assert body["credential_configuration_ids"] == ["real_person"]
    grant = body["grants"][PRE_AUTH_GRANT]
    assert grant["tx_code"] == {
        "input_mode": "numeric",
        "length": 6,
        "description": grant["tx_code"]["description"],
    }
    assert len(grant["tx_code"]["description"]) <= 300
    assert offer.tx_code.isdigit() and len(offer.tx_code) == 6
    png = client.get(path + "/qr.png")
    assert png.headers["content-type"] == "image/png"
    [decoded] = qr_codes_in(png.content)
    assert decoded.text == offer.offer_uri
    svg = client.get(path + "/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content


def test_the_status_list_endpoint_reflects_a_revocation(
    wallet: Wallet, make_offer: MakeOffer, client: TestClient, session: Session, keyring: Keyring
) -> None:
    offer = make_offer("age")
    [stored] = wallet.accept(offer.offer_uri, offer.tx_code)
    presentation = stored.present([("age_over_18",)], NONCE, AUDIENCE)
    ref = HeldSdJwt.parse(stored.credential).payload["status"]["status_list"]
    row = session.scalars(select(IssuedCredential)).all()[-1]

    def bit() -> int:
        response = client.get(ref["uri"].removeprefix(TEST_ISSUER))
        assert response.headers["content-type"] == "application/statuslist+jwt"
        claims = jwt.decode(response.text, options={"verify_signature": False})
        return status_at(decode_list(claims["status_list"]["lst"]), ref["idx"])

    assert bit() == 0
    revoke_credential(session, row.id, "operator", "operator:cli")
    session.commit()
    assert bit() == 1
    with pytest.raises(CredentialRevoked):
        verify(session, keyring, presentation)


# --- the token endpoint refuses ----------------------------------------------------------------


def code_of(wallet: Wallet, offer_uri: str) -> str:
    code: str = wallet.resolve_offer(offer_uri)["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    return code


def as_md(wallet: Wallet) -> dict[str, Any]:
    return wallet.metadata(TEST_ISSUER)[1]


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**6:06d}"


def test_a_missing_transaction_code_is_an_invalid_request(
    wallet: Wallet, make_offer: MakeOffer
) -> None:
    offer = make_offer()
    response = wallet.token(as_md(wallet), code_of(wallet, offer.offer_uri), None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


def test_five_wrong_transaction_codes_kill_the_offer(wallet: Wallet, make_offer: MakeOffer) -> None:
    offer = make_offer()
    code = code_of(wallet, offer.offer_uri)
    metadata = as_md(wallet)
    for _ in range(5):
        response = wallet.token(metadata, code, wrong(offer.tx_code))
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"

    response = wallet.token(metadata, code, offer.tx_code)
    assert response.json()["error"] == "invalid_grant"
    assert wallet.http.get(offer.credential_offer_uri.removeprefix(TEST_ISSUER)).status_code == 404


def test_four_wrong_transaction_codes_still_allow_the_right_one(
    wallet: Wallet, make_offer: MakeOffer
) -> None:
    offer = make_offer()
    code = code_of(wallet, offer.offer_uri)
    metadata = as_md(wallet)
    for _ in range(4):
        wallet.token(metadata, code, wrong(offer.tx_code))
    assert wallet.token(metadata, code, offer.tx_code).status_code == 200


def test_a_reused_code_is_refused_and_revokes_its_access_token(
    wallet: Wallet, make_offer: MakeOffer
) -> None:
    offer = make_offer()
    code = code_of(wallet, offer.offer_uri)
    metadata = as_md(wallet)
    first = wallet.token(metadata, code, offer.tx_code).json()["access_token"]

    again = wallet.token(metadata, code, offer.tx_code)

    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    issuer_md = wallet.metadata(TEST_ISSUER)[0]
    key = ec.generate_private_key(ec.SECP256R1())
    proof = wallet.proof(key, TEST_ISSUER, wallet.nonce(issuer_md))
    response = wallet.request_credentials(issuer_md, first, "postcode", [proof])
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_an_expired_offer_is_gone(wallet: Wallet, make_offer: MakeOffer) -> None:
    offer = make_offer()
    code = code_of(wallet, offer.offer_uri)
    metadata = as_md(wallet)

    with time_machine.travel(utcnow() + dt.timedelta(minutes=16)):
        response = wallet.token(metadata, code, offer.tx_code)
        assert response.json()["error"] == "invalid_grant"
        path = offer.credential_offer_uri.removeprefix(TEST_ISSUER)
        assert wallet.http.get(path).status_code == 404


def test_an_unknown_code_is_refused_at_the_shared_token_endpoint(
    wallet: Wallet, client: TestClient
) -> None:
    response = wallet.token(as_md(wallet), "made-up", "123456")
    assert response.json()["error"] == "invalid_grant"
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["token_endpoint"] == "http://testserver/token"
    # Other grants at the same endpoint still need client authentication.
    other = client.post("/token", data={"grant_type": "authorization_code", "code": "x"})
    assert other.status_code == 401 and other.json()["error"] == "invalid_client"


def test_the_reference_implementation_verifies_a_wallets_presentation_with_the_public_jwks(
    wallet: Wallet, make_offer: MakeOffer, client: TestClient
) -> None:
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    offer = make_offer("age")
    [stored] = wallet.accept(offer.offer_uri, offer.tx_code)
    presentation = stored.present([("age_over_18",), ("age_over_65",)], NONCE, AUDIENCE)
    jwks_uri = client.get("/.well-known/jwt-vc-issuer").json()["jwks_uri"]
    keys = {k["kid"]: k for k in client.get(jwks_uri.removeprefix(TEST_ISSUER)).json()["keys"]}

    def issuer_key(issuer: str, header: dict[str, Any]) -> JWK:
        assert issuer == TEST_ISSUER
        return JWK(**keys[header["kid"]])

    payload = SDJWTVerifier(presentation, issuer_key, AUDIENCE, NONCE).get_verified_payload()

    assert payload["age_over_18"] is True and payload["age_over_65"] is False
    assert "age_over_12" not in payload
    assert payload["vct"] == f"{TEST_ISSUER}/vct/age"
