"""The command-line holder refuses what the protocols forbid, before sending anything."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jwt
import pytest

from attestations.wallet.holder import Holder, HolderError, _answer
from attestations.wallet.holder_store import HolderStore
from tests.support.holder_credentials import stored_postcode

VERIFIER = "https://verifier.example.nl"


def holder_with(tmp_path: Path, request_object: str) -> Holder:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/request/1":
            return httpx.Response(200, text=request_object)
        return httpx.Response(404)

    return Holder(
        httpx.Client(transport=httpx.MockTransport(handler)), HolderStore(tmp_path / "w.json")
    )


def unsigned(**claims: object) -> str:
    return jwt.encode(claims, key=None, algorithm="none")


def qr(client_id: str) -> str:
    return (
        "openid4vp://?"
        + httpx.QueryParams(
            {"client_id": client_id, "request_uri": f"{VERIFIER}/request/1"}
        ).__str__()
    )


def test_holder_refuses_plain_http_to_other_hosts(tmp_path: Path) -> None:
    holder = holder_with(tmp_path, "")
    with pytest.raises(HolderError, match="non-https"):
        holder.resolve("openid4vp://?client_id=x&request_uri=http://verifier.example.nl/r")


def test_an_unsigned_request_object_is_accepted_only_under_the_redirect_uri_prefix(
    tmp_path: Path,
) -> None:
    response_uri = f"{VERIFIER}/response"
    body = {
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri,
        "nonce": "n",
        "state": "s",
        "dcql_query": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": []}]},
    }
    good = holder_with(tmp_path, unsigned(client_id=f"redirect_uri:{response_uri}", **body))
    request = good.resolve(qr(f"redirect_uri:{response_uri}"))
    assert request.response_uri == response_uri and not request.satisfiable

    spoof = holder_with(tmp_path, unsigned(client_id="x509_san_dns:verifier.example.nl", **body))
    with pytest.raises(HolderError, match="unsigned"):
        spoof.resolve(qr("x509_san_dns:verifier.example.nl"))

    other = holder_with(tmp_path, unsigned(client_id="redirect_uri:https://evil.example/r", **body))
    with pytest.raises(HolderError):
        other.resolve(qr(f"redirect_uri:{response_uri}"))


def test_only_the_first_satisfiable_claim_set_is_disclosed(tmp_path: Path) -> None:
    stored = stored_postcode()
    query = {
        "id": "residence",
        "meta": {"vct_values": [stored.vct]},
        "claims": [
            {"id": "zip", "path": ["postcode"]},
            {"id": "area", "path": ["postcode_area"]},
            {"id": "nope", "path": ["not_there"]},
        ],
        "claim_sets": [["nope"], ["area"], ["zip"]],
    }
    asked = _answer(query, [stored])
    assert asked.credential is stored and asked.paths == (("postcode_area",),)


def test_the_store_file_is_private(tmp_path: Path) -> None:
    store = HolderStore(tmp_path / "wallet.json")
    store.add([stored_postcode()])
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    assert [c.vct for c in store.load()] == [
        json.loads(store.path.read_text())["credentials"][0]["vct"]
    ]


def _request_claims(client_id: str, response_uri: str) -> dict[str, object]:
    return {
        "client_id": client_id,
        "aud": "https://self-issued.me/v2",
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri,
        "nonce": "n",
        "state": "s",
        "dcql_query": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": []}]},
    }


def test_a_request_signed_without_a_certificate_chain_is_refused(tmp_path: Path) -> None:
    """A key published on the request's own host proves nothing about the client id: an
    attacker could name a real verifier's client id and collect its answers."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    client_id = "x509_san_dns:verifier.example.nl"
    token = jwt.encode(
        _request_claims(client_id, "https://evil.example/response"), key, algorithm="ES256"
    )
    with pytest.raises(HolderError, match="needs x5c"):
        holder_with(tmp_path, token).resolve(qr(client_id))


def test_an_x509_request_must_answer_on_the_certificates_host(tmp_path: Path) -> None:
    """OpenID4VP §5.9.3: a genuine certificate for the verifier does not let its request send
    the presentation to another host."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from attestations.verifier.x509 import make_development_ca

    ca, leaf, leaf_key = make_development_ca("verifier.example.nl")
    client_id = "x509_san_dns:verifier.example.nl"
    x5c = [base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()]

    def holder_for(response_uri: str) -> Holder:
        token = jwt.encode(
            _request_claims(client_id, response_uri),
            leaf_key,
            algorithm="ES256",
            headers={"x5c": x5c, "typ": "oauth-authz-req+jwt"},
        )
        holder = holder_with(tmp_path, token)
        holder.trust_anchors = [
            x509.load_der_x509_certificate(ca.public_bytes(serialization.Encoding.DER))
        ]
        return holder

    with pytest.raises(HolderError, match="not on the certificate's host"):
        holder_for("https://evil.example/response").resolve(qr(client_id))
    # the same request answering on the certificate's host is accepted
    accepted = holder_for("https://verifier.example.nl/response").resolve(qr(client_id))
    assert accepted.response_uri == "https://verifier.example.nl/response"
