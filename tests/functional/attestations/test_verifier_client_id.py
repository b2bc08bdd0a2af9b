"""Client Identifier prefixes (OpenID4VP 1.0 §5.9.3): `redirect_uri:` requests are unsigned,
`x509_san_dns:` requests are signed by a configured certificate chain. The spec-only test
wallet refuses a request whose authentication does not hold, and Kluis refuses a key binding
made out to another audience."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.verifier.x509 import make_development_ca
from core.db import Database
from service.app import create_app_from_runtime
from service.runtime import build_runtime
from tests.conftest import TEST_ISSUER, make_settings
from tests.functional.attestations.test_verifier import (
    area_query,
    read,
    rejected,
    start,
    verified_result,
)
from tests.support.oidc import RP, make_rp
from tests.support.wallet import RequestRefused, StoredCredential, Wallet

X509_CLIENT_ID = "x509_san_dns:testserver"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


def anchor(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture
def x509_wallet(x509_client: TestClient, wallet: Wallet, dev_ca: dict[str, Path]) -> Wallet:
    """The same holder (its credentials), now talking to the x509-configured app."""
    return Wallet(x509_client, wallet.credentials, trust_anchors=[anchor(dev_ca["ca"])])


@dataclass
class Altered:
    status_code: int
    headers: dict[str, str]
    text: str


class Tampering:
    """Sits between the wallet and Kluis and rewrites the request object on its way."""

    def __init__(self, inner: TestClient, rewrite: Any) -> None:
        self.inner, self.rewrite = inner, rewrite

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.inner.get(url, **kwargs)
        if "/verifier/request/" not in url:
            return response
        return Altered(response.status_code, dict(response.headers), self.rewrite(response.text))

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.inner.post(url, **kwargs)


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def _der64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


# --- redirect_uri: (development) ---------------------------------------------------------------


def test_redirect_uri_request_object_is_unsigned_with_client_metadata(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    token = client.get(f"/verifier/request/{created['session_id']}").text

    header, claims = _parts(token)

    assert header == {"alg": "none", "typ": "oauth-authz-req+jwt"}
    assert token.endswith(".")
    assert claims["client_id"] == f"redirect_uri:{TEST_ISSUER}/verifier/response"
    assert claims["client_metadata"]["vp_formats_supported"]["dc+sd-jwt"]
    assert wallet.present(created["qr_payload"]).status_code == 200
    assert read(client, rp, created).json()["status"] == "done"


def test_wallet_refuses_a_signed_request_under_redirect_uri(
    client: TestClient, rp: RP, wallet: Wallet
) -> None:
    created = start(client, rp)
    key = ec.generate_private_key(ec.SECP256R1())

    def sign(token: str) -> str:
        header, claims = _parts(token)
        return jwt.encode(claims, key, algorithm="ES256", headers={"typ": header["typ"]})

    with pytest.raises(RequestRefused, match="must not be signed"):
        Wallet(Tampering(client, sign)).resolve_request(created["qr_payload"])


# --- x509_san_dns: -----------------------------------------------------------------------------


def test_x509_san_dns_request_is_signed_with_the_chain_and_the_flow_completes(
    x509_client: TestClient, rp: RP, x509_wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(x509_client, rp)
    assert "client_id=x509_san_dns%3Atestserver" in created["qr_payload"]

    header, request = x509_wallet.resolve_request(created["qr_payload"])
    answer = x509_wallet.present(created["qr_payload"], [("postcode_area",)])

    assert header["alg"] == "ES256" and len(header["x5c"]) == 1
    assert request["client_id"] == X509_CLIENT_ID
    assert answer.status_code == 200, answer.text
    result = verified_result(x509_client, rp, read(x509_client, rp, created).json()["result"])
    assert result["credentials"][0]["claims"] == {"postcode_area": "1087"}


def test_wallet_refuses_a_chain_it_does_not_trust(
    x509_client: TestClient, rp: RP, x509_wallet: Wallet
) -> None:
    created = start(x509_client, rp)
    other_ca, _, _ = make_development_ca("testserver")
    stranger = Wallet(x509_client, trust_anchors=[other_ca])

    with pytest.raises(RequestRefused, match="not trusted"):
        stranger.resolve_request(created["qr_payload"])
    assert x509_wallet.resolve_request(created["qr_payload"])[1]["client_id"] == X509_CLIENT_ID


def test_wallet_refuses_a_tampered_request_object(
    x509_client: TestClient, rp: RP, x509_wallet: Wallet
) -> None:
    created = start(x509_client, rp)

    def redirect_response(token: str) -> str:
        head, body, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        claims["response_uri"] = "http://testserver/elsewhere"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{head}.{forged}.{signature}"

    tampered = Wallet(Tampering(x509_client, redirect_response), x509_wallet.credentials)
    tampered.trust_anchors = x509_wallet.trust_anchors
    with pytest.raises(RequestRefused, match="signature"):
        tampered.resolve_request(created["qr_payload"])


def test_wallet_refuses_a_request_signed_by_a_certificate_for_another_host(
    x509_client: TestClient, rp: RP, x509_wallet: Wallet
) -> None:
    created = start(x509_client, rp)
    evil_ca, evil_leaf, evil_key = make_development_ca("evil.example")

    def resign(token: str) -> str:
        header, claims = _parts(token)
        headers = {"typ": header["typ"], "x5c": [_der64(evil_leaf)]}
        return jwt.encode(claims, evil_key, algorithm="ES256", headers=headers)

    wallet = Wallet(Tampering(x509_client, resign), trust_anchors=[evil_ca])
    with pytest.raises(RequestRefused, match="subjectAltName"):
        wallet.resolve_request(created["qr_payload"])


def test_a_key_binding_for_the_redirect_uri_client_id_is_rejected_under_x509(
    x509_client: TestClient, rp: RP, x509_wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(x509_client, rp)

    answer = x509_wallet.present(
        created["qr_payload"], audience=f"redirect_uri:{TEST_ISSUER}/verifier/response"
    )

    rejected(answer, "kb_wrong_audience")
    assert read(x509_client, rp, created).json() == {"status": "scanned"}


def test_production_refuses_sessions_without_an_x509_identity(
    tmp_path: Path, database_url: str, db: Database, rp: RP
) -> None:
    settings = make_settings(tmp_path / "prod", database_url, mode="production")
    app = create_app_from_runtime(build_runtime(settings, db))
    with TestClient(app, base_url=TEST_ISSUER) as client:
        body = {"dcql_query": area_query(), "purpose": "Stemmen"}
        response = client.post("/verifier/sessions", json=body, auth=rp.basic())

    assert response.status_code == 503, response.text
    assert response.json()["type"] == "urn:kluis:problem:verifier-not-configured"
