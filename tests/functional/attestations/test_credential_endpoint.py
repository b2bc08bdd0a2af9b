"""The credential endpoint refuses what OpenID4VCI §8.3.1 says it must, and consumes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from tests.conftest import TEST_ISSUER
from tests.functional.attestations.conftest import MakeOffer
from tests.support.wallet import PRE_AUTH_GRANT, Wallet


@dataclass
class Session_:
    wallet: Wallet
    issuer_md: dict[str, Any]
    access_token: str

    def nonce(self) -> str:
        return self.wallet.nonce(self.issuer_md)

    def proof(self, **overrides: Any) -> str:
        nonce = overrides.pop("nonce", None) or self.nonce()
        key = overrides.pop("key", None) or ec.generate_private_key(ec.SECP256R1())
        return self.wallet.proof(key, overrides.pop("aud", TEST_ISSUER), nonce, **overrides)

    def request(self, body: Any, token: str | None = None) -> Any:
        return self.wallet.http.post(
            "/credential",
            json=body,
            headers={"Authorization": f"Bearer {token or self.access_token}"},
        )

    def ask(self, proofs: list[str], config_id: str = "postcode") -> Any:
        return self.request({"credential_configuration_id": config_id, "proofs": {"jwt": proofs}})


@pytest.fixture
def vci(wallet: Wallet, make_offer: MakeOffer) -> Iterator[Session_]:
    offer = make_offer("postcode")
    document = wallet.resolve_offer(offer.offer_uri)
    issuer_md, as_md = wallet.metadata(TEST_ISSUER)
    code = document["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    token = wallet.token(as_md, code, offer.tx_code).json()["access_token"]
    yield Session_(wallet, issuer_md, token)


def error_of(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    code: str = response.json()["error"]
    return code


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"aud": "https://other.example"}, "invalid_proof"),
        ({"headers": {"typ": "JWT"}}, "invalid_proof"),
        ({"headers": {"kid": "k1"}}, "invalid_proof"),
        ({"iat": int(time.time()) - 3600}, "invalid_proof"),
        ({"iat": int(time.time()) + 3600}, "invalid_proof"),
        ({"nonce": "never-issued"}, "invalid_nonce"),
    ],
)
def test_bad_proofs_are_refused(vci: Session_, overrides: dict[str, Any], expected: str) -> None:
    assert error_of(vci.ask([vci.proof(**overrides)])) == expected
    # nothing was consumed: the same access token still works
    assert vci.ask([vci.proof()]).status_code == 200


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(vci: Session_) -> None:
    good = vci.proof().split(".")
    other = vci.proof().split(".")
    assert error_of(vci.ask([".".join([good[0], good[1], other[2]])])) == "invalid_proof"


def test_a_proof_missing_its_nonce_is_invalid_proof(vci: Session_) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    import jwt
    from jwt.algorithms import ECAlgorithm

    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    token = jwt.encode(
        {"aud": TEST_ISSUER, "iat": int(time.time())},
        key,
        algorithm="ES256",
        headers={"typ": "openid4vci-proof+jwt", "jwk": jwk},
    )
    assert error_of(vci.ask([token])) == "invalid_proof"


def test_a_c_nonce_is_single_use(vci: Session_, wallet: Wallet, make_offer: MakeOffer) -> None:
    nonce = vci.nonce()
    assert vci.ask([vci.proof(nonce=nonce)]).status_code == 200
    offer = make_offer("postcode")
    code = wallet.resolve_offer(offer.offer_uri)["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    token = wallet.token(wallet.metadata(TEST_ISSUER)[1], code, offer.tx_code).json()
    body = {"credential_configuration_id": "postcode", "proofs": {"jwt": [vci.proof(nonce=nonce)]}}
    assert error_of(vci.request(body, token["access_token"])) == "invalid_nonce"


def test_one_key_cannot_get_two_credentials(vci: Session_) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    nonce = vci.nonce()
    proofs = [vci.proof(key=key, nonce=nonce), vci.proof(key=key, nonce=nonce)]
    assert error_of(vci.ask(proofs)) == "invalid_proof"


def test_more_proofs_than_the_batch_size_are_refused(vci: Session_) -> None:
    nonce = vci.nonce()
    proofs = [vci.proof(nonce=nonce) for _ in range(11)]
    assert error_of(vci.ask(proofs)) == "invalid_credential_request"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"credential_configuration_id": "postcode"}, "invalid_proof"),
        ({"credential_configuration_id": "postcode", "proofs": {"jwt": []}}, "invalid_proof"),
        ({"credential_configuration_id": "postcode", "proofs": {"di_vp": [{}]}}, "invalid_proof"),
        ({"proofs": {"jwt": ["x"]}}, "invalid_credential_request"),
        ({"credential_configuration_id": "passport"}, "unknown_credential_configuration"),
        ({"credential_identifier": "x"}, "unknown_credential_identifier"),
        (["not", "an", "object"], "invalid_credential_request"),
    ],
)
def test_malformed_requests_are_refused(vci: Session_, body: Any, expected: str) -> None:
    assert error_of(vci.request(body)) == expected


def test_a_token_for_one_type_does_not_give_another(vci: Session_) -> None:
    assert error_of(vci.ask([vci.proof()], "age"), 403) == "insufficient_scope"


def test_without_a_valid_access_token_nothing_is_issued(vci: Session_, client: TestClient) -> None:
    body = {"credential_configuration_id": "postcode", "proofs": {"jwt": [vci.proof()]}}
    response = client.post("/credential", json=body)
    assert error_of(response, 401) == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert error_of(vci.request(body, "forged-token"), 401) == "invalid_token"


def test_an_access_token_buys_one_credential_response(vci: Session_) -> None:
    assert vci.ask([vci.proof()]).status_code == 200
    assert error_of(vci.ask([vci.proof()]), 401) == "invalid_token"


def test_a_non_json_body_is_refused(vci: Session_) -> None:
    response = vci.wallet.http.post(
        "/credential",
        content=b"proofs=1",
        headers={
            "Authorization": f"Bearer {vci.access_token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert error_of(response) == "invalid_credential_request"


def test_a_proof_carrying_a_private_key_or_a_foreign_algorithm_is_refused(vci: Session_) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    nonce = vci.nonce()
    key = ec.generate_private_key(ec.SECP256R1())
    private_jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    leaked = vci.proof(key=key, nonce=nonce, headers={"jwk": private_jwk})
    assert error_of(vci.ask([leaked])) == "invalid_proof"

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rs256 = jwt.encode(
        {"aud": TEST_ISSUER, "iat": int(time.time()), "nonce": nonce},
        rsa_key,
        algorithm="RS256",
        headers={
            "typ": "openid4vci-proof+jwt",
            "jwk": RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True),
        },
    )
    assert error_of(vci.ask([rs256])) == "invalid_proof"
    from attestations.sdjwt import jws, public_jwk

    p384 = ec.generate_private_key(ec.SECP384R1())
    header = {"alg": "ES384", "typ": "openid4vci-proof+jwt", "jwk": public_jwk(p384.public_key())}
    payload = {"aud": TEST_ISSUER, "iat": int(time.time()), "nonce": nonce}
    es384 = jws.encode_compact(header, payload, "ES384", p384)  # type: ignore[arg-type]
    assert error_of(vci.ask([es384])) == "invalid_proof"
