from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from attestations.types import TYPES
from tests.conftest import TEST_ISSUER


def test_credential_issuer_metadata(client: TestClient) -> None:
    response = client.get("/.well-known/openid-credential-issuer")
    body = response.json()

    assert response.status_code == 200
    assert body["credential_issuer"] == TEST_ISSUER
    assert body["credential_endpoint"] == f"{TEST_ISSUER}/credential"
    assert body["nonce_endpoint"] == f"{TEST_ISSUER}/nonce"
    assert body["batch_credential_issuance"]["batch_size"] >= 10
    assert {d["locale"] for d in body["display"]} == {"nl", "en"}
    configs = body["credential_configurations_supported"]
    assert set(configs) == set(TYPES)
    for type_id, config in configs.items():
        assert config["format"] == "dc+sd-jwt"
        assert config["vct"] == f"{TEST_ISSUER}/vct/{type_id}"
        assert config["cryptographic_binding_methods_supported"] == ["jwk"]
        assert config["proof_types_supported"] == {
            "jwt": {"proof_signing_alg_values_supported": ["ES256"]}
        }
        display = config["credential_metadata"]["display"]
        assert {d["locale"] for d in display} == {"nl", "en"}


def test_authorization_server_metadata_offers_the_pre_authorized_grant(
    client: TestClient,
) -> None:
    body = client.get("/.well-known/oauth-authorization-server").json()

    assert body["issuer"] == TEST_ISSUER
    assert body["grant_types_supported"] == ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    assert body["pre-authorized_grant_anonymous_access_supported"] is True
    assert body["token_endpoint"].startswith(TEST_ISSUER)


def test_jwt_vc_issuer_metadata_points_at_the_jwks_with_the_signing_key(
    client: TestClient,
) -> None:
    body = client.get("/.well-known/jwt-vc-issuer").json()

    assert body == {"issuer": TEST_ISSUER, "jwks_uri": f"{TEST_ISSUER}/jwks.json"}
    kids = {k["kid"] for k in client.get("/jwks.json").json()["keys"]}
    assert any(kid.startswith("es256-") for kid in kids)


@pytest.mark.parametrize("type_id", sorted(TYPES))
def test_type_metadata(client: TestClient, type_id: str) -> None:
    body = client.get(f"/vct/{type_id}").json()

    assert body["vct"] == f"{TEST_ISSUER}/vct/{type_id}"
    assert {d["locale"] for d in body["display"]} == {"nl", "en"}
    assert all(c["sd"] == "always" for c in body["claims"])
    assert all({d["locale"] for d in c["display"]} == {"nl", "en"} for c in body["claims"])
    assert [c["path"] for c in body["claims"]] == [list(p) for p in TYPES[type_id].all_disclosable]
    # what a credential of the type may leave out is not mandatory (a partly known birth
    # date, a letter without a CBS code)
    optional = {c["path"][0] for c in body["claims"] if not c["mandatory"]}
    assert (
        optional
        == {
            "postcode": {"wijkcode", "buurtcode"},
            "age": {f"age_over_{n}" for n in (12, 16, 18, 21, 65)},
            "real_person": set(),
        }[type_id]
    )


def test_unknown_type_metadata_is_not_found(client: TestClient) -> None:
    assert client.get("/vct/passport").status_code == 404


def test_unknown_status_list_is_not_found(client: TestClient) -> None:
    assert client.get("/status/nope").status_code == 404
