"""OpenID4VP against a real `kluis serve`: a platform starts a session over HTTP, the spec-only
test wallet resolves the `qr_payload` over HTTP, fetches the request object and presents only
`postcode_area` with key binding; the platform long-polls and reads a verified result with
`postcode_area` and without `postcode`. Then every refusal a verifier owes: wrong nonce, wrong
audience, a replayed vp_token, a revoked credential, an untrusted issuer, an expired session
and a second response to a finished session. Also: an issuer the operator trusts through the
CLI, and `x509_san_dns:` with a development CA made by `kluis verifier dev-ca`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509

from tests.support.databases import drop_database, fresh_database_url
from tests.support.other_issuer import OtherIssuer, running_issuer
from tests.support.server import LiveServer, run_server
from tests.support.wallet import StoredCredential, Wallet

SESSION_TTL_S = 8
CLAIMS = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("verifier")
    url = fresh_database_url(tmp)
    try:
        with run_server(tmp / "data", url, KLUIS_VERIFIER_SESSION_TTL=str(SESSION_TTL_S)) as s:
            yield s
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def platform(server: LiveServer) -> tuple[str, str]:
    args = ["clients", "add", "--name", "Buurt", "--redirect-uri", "https://buurt.example/cb"]
    created = json.loads(server.cli(*args, "--json").stdout)
    return created["client_id"], created["client_secret"]


def resident_credential(server: LiveServer, email: str) -> StoredCredential:
    server.cli("accounts", "add", "--email", email, "--json")
    args = ["attestations", "offer", "--account", email, "--type", "postcode"]
    offer = json.loads(server.cli(*args, "--claims", json.dumps(CLAIMS), "--json").stdout)
    with Wallet.over_http(server.url) as wallet:
        [stored] = wallet.accept(offer["offer_uri"], offer["tx_code"])
    return stored


@pytest.fixture(scope="module")
def credential(server: LiveServer) -> StoredCredential:
    return resident_credential(server, "bewoner@example.org")


@pytest.fixture
def wallet(server: LiveServer, credential: StoredCredential) -> Iterator[Wallet]:
    with Wallet.over_http(server.url) as wallet:
        wallet.credentials.append(credential)
        yield wallet


def query(vct: str) -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": ["postcode_area"]}],
            }
        ]
    }


class Platform:
    def __init__(self, server: LiveServer, auth: tuple[str, str]) -> None:
        self.server, self.auth = server, auth

    def start(self, dcql_query: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {
            "dcql_query": dcql_query or query(f"{self.server.url}/vct/postcode"),
            "purpose": "Stemmen in buurt 1087",
        }
        response = httpx.post(f"{self.server.url}/verifier/sessions", json=body, auth=self.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def status(self, created: dict[str, Any], wait: float = 0) -> dict[str, Any]:
        params = {"wait": str(wait)} if wait else {}
        response = httpx.get(created["status_url"], params=params, auth=self.auth, timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def result(self, token: str) -> dict[str, Any]:
        jwks = httpx.get(f"{self.server.url}/jwks.json").json()
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(k for k in jwks["keys"] if k["kid"] == kid)
        claims: dict[str, Any] = jwt.decode(
            token, jwt.PyJWK(key).key, algorithms=["ES256"], audience=self.auth[0],
            issuer=self.server.url,
        )  # fmt: skip
        return claims


@pytest.fixture
def rp(server: LiveServer, platform: tuple[str, str]) -> Platform:
    return Platform(server, platform)


def refused(response: Any, reason: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert reason in response.json()["error_description"]


def test_a_wallet_proves_postcode_area_and_the_platform_reads_it_without_postcode(
    rp: Platform, wallet: Wallet
) -> None:
    created = rp.start()
    assert rp.status(created) == {"status": "pending"}

    header, request = wallet.resolve_request(created["qr_payload"])
    assert header["alg"] == "none"  # development: redirect_uri: requests are unsigned
    assert rp.status(created) == {"status": "scanned"}
    answer = wallet.present(created["qr_payload"], [("postcode_area",)])

    assert answer.status_code == 200, answer.text
    body = rp.status(created, wait=10)
    assert body["status"] == "done"
    result = rp.result(body["result"])
    [entry] = result["credentials"]
    assert entry["claims"] == {"postcode_area": "1087"}
    assert entry["verification"]["key_binding"] == "valid"
    assert "1087AB" not in json.dumps(result) and "Amsterdam" not in json.dumps(result)
    assert request["client_id"] == f"redirect_uri:{rp.server.url}/verifier/response"


def test_a_presentation_bound_to_another_nonce_is_refused(rp: Platform, wallet: Wallet) -> None:
    created = rp.start()

    refused(wallet.present(created["qr_payload"], nonce="not-this-session"), "kb_wrong_nonce")
    assert rp.status(created)["status"] == "scanned"


def test_a_presentation_for_another_audience_is_refused(rp: Platform, wallet: Wallet) -> None:
    created = rp.start()

    answer = wallet.present(created["qr_payload"], audience="x509_san_dns:evil.example")

    refused(answer, "kb_wrong_audience")


def test_a_replayed_vp_token_is_refused(rp: Platform, wallet: Wallet) -> None:
    first = rp.start()
    assert wallet.present(first["qr_payload"]).status_code == 200
    captured = wallet.last_vp_token
    assert captured is not None

    second = rp.start()

    refused(wallet.present(second["qr_payload"], vp_token=captured), "kb_wrong_nonce")
    assert rp.status(second)["status"] == "scanned"


def test_a_second_response_to_a_finished_session_is_refused(
    rp: Platform, wallet: Wallet, credential: StoredCredential
) -> None:
    created = rp.start()
    _, request = wallet.resolve_request(created["qr_payload"])
    assert wallet.present(created["qr_payload"]).status_code == 200
    fresh = credential.present([("postcode_area",)], request["nonce"], request["client_id"])

    again = wallet.http.post(
        request["response_uri"],
        data={"state": request["state"], "vp_token": json.dumps({"residence": [fresh]})},
    )

    refused(again, "ended")
    assert rp.status(created)["status"] == "done"


def test_a_revoked_credential_is_refused(rp: Platform, server: LiveServer) -> None:
    email = "ingetrokken@example.org"
    stored = resident_credential(server, email)
    [issued] = json.loads(server.cli("attestations", "list", "--account", email, "--json").stdout)
    server.cli("attestations", "revoke", issued["id"])
    created = rp.start()

    with Wallet.over_http(server.url) as wallet:
        refused(wallet.present(created["qr_payload"], credential=stored), "revoked")


def test_a_credential_of_an_untrusted_issuer_is_refused(rp: Platform, wallet: Wallet) -> None:
    with running_issuer() as other:
        impostor, _ = other.issue({"postcode_area": "1087"}, vct=f"{rp.server.url}/vct/postcode")
        created = rp.start()

        refused(wallet.present(created["qr_payload"], credential=impostor), "untrusted_issuer")


def test_an_issuer_trusted_through_the_cli_is_accepted(rp: Platform, wallet: Wallet) -> None:
    other: OtherIssuer
    with running_issuer() as other:
        rp.server.cli("verifier", "issuers", "add", "--iss", other.url, "--vct", other.vct)
        membership, _ = other.issue()
        membership_query = query(other.vct)
        membership_query["credentials"][0]["claims"] = [{"path": ["member_of"]}]
        created = rp.start(membership_query)

        answer = wallet.present(created["qr_payload"], credential=membership)

        assert answer.status_code == 200, answer.text
        [entry] = rp.result(rp.status(created)["result"])["credentials"]
        assert entry["iss"] == other.url and entry["verification"]["status"] == "valid"
        rp.server.cli("verifier", "issuers", "remove", other.url)


def test_an_expired_session_accepts_no_response(
    rp: Platform, wallet: Wallet, credential: StoredCredential
) -> None:
    created = rp.start()
    _, request = wallet.resolve_request(created["qr_payload"])
    presentation = credential.present([("postcode_area",)], request["nonce"], request["client_id"])

    time.sleep(SESSION_TTL_S + 0.5)
    late = wallet.http.post(
        request["response_uri"],
        data={"state": request["state"], "vp_token": json.dumps({"residence": [presentation]})},
    )

    refused(late, "ended")
    assert rp.status(created) == {"status": "expired"}
    assert wallet.http.get(f"/verifier/request/{created['session_id']}").status_code == 404


def test_x509_san_dns_with_a_development_ca_from_the_cli(
    tmp_path: Path, platform: tuple[str, str], server: LiveServer
) -> None:
    out = tmp_path / "ca"
    made = server.cli("verifier", "dev-ca", "--out", str(out), "--dns", "127.0.0.1")
    assert "DEVELOPMENT ONLY" in made.stderr
    env = dict(line.split("=", 1) for line in made.stdout.splitlines() if line.startswith("KLUIS"))
    url = fresh_database_url(tmp_path)
    try:
        with run_server(tmp_path / "data", url, **env) as x509_server:
            x509_server.cli("accounts", "add", "--email", "x@example.org", "--json")
            args = ["attestations", "offer", "--account", "x@example.org", "--type", "postcode"]
            out_json = x509_server.cli(*args, "--claims", json.dumps(CLAIMS), "--json").stdout
            offer = json.loads(out_json)
            client = json.loads(
                x509_server.cli(
                    "clients", "add", "--name", "B", "--redirect-uri", "https://b.example/cb",
                    "--json",
                ).stdout
            )  # fmt: skip
            rp = Platform(x509_server, (client["client_id"], client["client_secret"]))
            anchor = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
            with Wallet.over_http(x509_server.url) as wallet:
                wallet.trust_anchors = [anchor]
                wallet.accept(offer["offer_uri"], offer["tx_code"])
                created = rp.start()
                header, request = wallet.resolve_request(created["qr_payload"])
                answer = wallet.present(created["qr_payload"], [("postcode_area",)])
            assert header["alg"] == "ES256" and header["x5c"]
            assert request["client_id"] == "x509_san_dns:127.0.0.1"
            assert answer.status_code == 200, answer.text
            assert rp.status(created)["status"] == "done"
    finally:
        drop_database(url)
