"""Verification sessions end to end: a platform asks for `postcode_area`, the spec-only test
wallet scans the QR payload and presents through OpenID4VP, the platform reads a result JWT
signed by Kluis. Every check of the response URI has an attack that fails."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.models import IssuedCredential
from attestations.sdjwt import HeldSdJwt, issue_sd_jwt, public_jwk
from attestations.statuslist import revoke_credential
from audit.models import AuditEntry
from core.db import utcnow
from tests.conftest import TEST_ISSUER
from tests.functional.attestations.conftest import MakeOffer
from tests.support.audit import discloses
from tests.support.oidc import RP, make_rp
from tests.support.qr import qr_codes_in
from tests.support.wallet import StoredCredential, Wallet

POSTCODE_VCT = f"{TEST_ISSUER}/vct/postcode"
CLIENT_ID = f"redirect_uri:{TEST_ISSUER}/verifier/response"


def area_query(**extra: Any) -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [POSTCODE_VCT]},
                "claims": [{"path": ["postcode_area"]}],
                **extra,
            }
        ]
    }


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


def start(client: TestClient, rp: RP, **body: Any) -> dict[str, Any]:
    payload = {"dcql_query": area_query(), "purpose": "Stemmen in buurt 1087", **body}
    response = client.post("/verifier/sessions", json=payload, auth=rp.basic())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def read(client: TestClient, rp: RP, created: dict[str, Any], **params: Any) -> Any:
    return client.get(f"/verifier/sessions/{created['session_id']}", params=params, auth=rp.basic())


def verified_result(client: TestClient, rp: RP, token: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "kluis-verifier-result+jwt" and header["alg"] == "ES256"
    jwks = client.get("/jwks.json").json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["ES256"],
        audience=rp.client_id,
        issuer=TEST_ISSUER,
        options={"require": ["iat", "exp", "aud", "iss"]},
    )
    return claims


# --- the happy path --------------------------------------------------------------------------


def test_wallet_proves_postcode_area_and_platform_reads_a_signed_result_without_postcode(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    assert created["qr_payload"].startswith("openid4vp://?client_id=redirect_uri%3A")
    assert read(client, rp, created).json() == {"status": "pending"}

    answer = wallet.present(created["qr_payload"], [("postcode_area",)])

    assert answer.status_code == 200, answer.text
    assert answer.json() == {}
    body = read(client, rp, created).json()
    assert body["status"] == "done"
    result = verified_result(client, rp, body["result"])
    [entry] = result["credentials"]
    assert entry["claims"] == {"postcode_area": "1087"}
    assert entry["vct"] == POSTCODE_VCT and entry["iss"] == TEST_ISSUER
    assert entry["verification"]["signature"] == "valid"
    assert entry["verification"]["status"] == "valid"
    assert entry["verification"]["key_binding"] == "valid"
    assert "postcode" not in json.dumps(entry["claims"]).replace("postcode_area", "")
    assert "poll_pseudonym" not in result


def test_claims_disclosed_beyond_the_query_are_dropped_and_never_stored(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential, session: Session
) -> None:
    created = start(client, rp)

    answer = wallet.present(
        created["qr_payload"], [("postcode_area",), ("postcode",), ("municipality", "name")]
    )

    assert answer.status_code == 200, answer.text
    result = verified_result(client, rp, read(client, rp, created).json()["result"])
    assert result["credentials"][0]["claims"] == {"postcode_area": "1087"}
    from attestations.verifier.models import VerifierSession

    row = session.get(VerifierSession, created["session_id"])
    assert row is not None and row.result is not None
    stored = jwt.decode(row.result, options={"verify_signature": False})
    assert "1087AB" not in json.dumps(stored) and "Amsterdam" not in json.dumps(stored)


def test_fetching_the_request_object_marks_the_session_scanned(
    client: TestClient, rp: RP, wallet: Wallet
) -> None:
    created = start(client, rp)

    _, request = wallet.resolve_request(created["qr_payload"])

    assert read(client, rp, created).json() == {"status": "scanned"}
    assert request["dcql_query"] == area_query()
    assert len(request["nonce"]) >= 22  # at least 128 bits, base64url
    assert request["client_id"] == CLIENT_ID


def test_the_qr_png_decodes_to_exactly_the_qr_payload(client: TestClient, rp: RP) -> None:
    created = start(client, rp)

    png = client.get(created["qr_png_url"].removeprefix(TEST_ISSUER))
    svg = client.get(created["qr_svg_url"].removeprefix(TEST_ISSUER))

    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    [decoded] = qr_codes_in(png.content)
    assert decoded.text == created["qr_payload"]


def test_universal_link_offers_a_resident_who_is_not_logged_in_to_log_in_and_come_back(
    client: TestClient, rp: RP
) -> None:
    created = start(client, rp)
    link = created["universal_link"].removeprefix(TEST_ISSUER)

    response = client.get(link, follow_redirects=False)

    assert created["universal_link"].startswith(f"{TEST_ISSUER}/verifier/open?")
    assert created["universal_link"].endswith(created["qr_payload"].removeprefix("openid4vp://?"))
    assert response.status_code == 200  # the chooser (tests/functional/wallet/test_open_link.py)
    found = re.search(r'id="use-kluis-wallet" href="([^"]*)"', response.text)
    assert found is not None
    location = html.unescape(found.group(1))
    assert location.startswith("/login?")
    assert parse_qs(urlsplit(location).query)["return_to"] == [link]


def test_poll_id_gives_a_pseudonym_stable_per_poll_and_different_across_polls(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    def pseudonym(poll_id: str) -> str:
        created = start(client, rp, poll_id=poll_id)
        assert wallet.present(created["qr_payload"]).status_code == 200
        result = verified_result(client, rp, read(client, rp, created).json()["result"])
        assert result["poll_id"] == poll_id
        value: str = result["poll_pseudonym"]
        return value

    first, again, other = pseudonym("poll-1"), pseudonym("poll-1"), pseudonym("poll-2")

    assert first == again and first != other


def test_creation_and_presentation_are_audited_without_claim_values(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential, session: Session
) -> None:
    created = start(client, rp)
    wallet.present(created["qr_payload"])

    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.event.like("verifier.%")).order_by(AuditEntry.idx)
    ).all()
    assert [e.event for e in entries] == ["verifier.session_created", "verifier.presented"]
    assert not discloses(entries[-1].entry, "1087")


# --- the platform API ------------------------------------------------------------------------


def test_another_platform_cannot_read_or_cancel_the_session(
    client: TestClient, rp: RP, session: Session
) -> None:
    created = start(client, rp)
    other = make_rp(session, "Ander platform", redirect_uris=["https://ander.example.nl/cb"])

    assert read(client, other, created).status_code == 404
    unknown = {"session_id": "does-not-exist"}
    assert read(client, other, created).json()["type"] == read(client, rp, unknown).json()["type"]
    deleted = client.delete(f"/verifier/sessions/{created['session_id']}", auth=other.basic())
    assert deleted.status_code == 404
    assert read(client, rp, created).json() == {"status": "pending"}


def test_the_api_needs_client_credentials(client: TestClient, rp: RP, session: Session) -> None:
    body = {"dcql_query": area_query(), "purpose": "x"}
    assert client.post("/verifier/sessions", json=body).status_code == 401
    wrong = client.post("/verifier/sessions", json=body, auth=(rp.client_id, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    public = make_rp(session, "Publiek", public=True)
    refused = client.post("/verifier/sessions", json={**body, "client_id": public.client_id})
    assert refused.status_code == 401


def test_private_key_jwt_platforms_authenticate_with_an_assertion(
    client: TestClient, session: Session
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**public_jwk(key.public_key()), "kid": "k1", "alg": "ES256", "use": "sig"}
    rp = make_rp(session, "Sleutelplatform", jwks={"keys": [jwk]})

    def assertion() -> str:
        now = int(time.time())
        claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": TEST_ISSUER, "iat": now}
        claims.update({"exp": now + 60, "jti": secrets.token_urlsafe(8)})
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})

    auth = {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    body = {"dcql_query": area_query(), "purpose": "x", **auth, "client_assertion": assertion()}
    created = client.post("/verifier/sessions", json=body)
    assert created.status_code == 201, created.text
    status = client.get(
        f"/verifier/sessions/{created.json()['session_id']}",
        params={**auth, "client_assertion": assertion()},
    )
    assert status.status_code == 200 and status.json() == {"status": "pending"}
    replayed = client.post("/verifier/sessions", json=body)
    assert replayed.status_code == 401


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"dcql_query": {"credentials": []}}, "/credentials"),
        ({"dcql_query": area_query(format="mso_mdoc")}, "/credentials/0/format"),
        ({"dcql_query": area_query(claims=[{"path": ["postcode_aera"]}])}, "/credentials/0/"),
        ({"purpose": ""}, "/purpose"),
        ({"poll_id": "with space"}, "/poll_id"),
    ],
)
def test_invalid_requests_get_a_clear_422(
    client: TestClient, rp: RP, change: dict[str, Any], pointer: str
) -> None:
    body = {"dcql_query": area_query(), "purpose": "Stemmen", **change}

    response = client.post("/verifier/sessions", json=body, auth=rp.basic())

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["pointer"].startswith(pointer)


def test_the_platform_cancels_and_the_wallet_can_no_longer_answer(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    _, request = wallet.resolve_request(created["qr_payload"])

    deleted = client.delete(f"/verifier/sessions/{created['session_id']}", auth=rp.basic())

    assert deleted.status_code == 200 and deleted.json() == {"status": "cancelled"}
    late = client.post("/verifier/response", data={"state": request["state"], "vp_token": "{}"})
    assert late.status_code == 400 and "ended" in late.json()["error_description"]
    assert client.get(f"/verifier/request/{created['session_id']}").status_code == 404


def test_a_wallet_error_response_cancels_the_session(
    client: TestClient, rp: RP, wallet: Wallet
) -> None:
    created = start(client, rp)
    _, request = wallet.resolve_request(created["qr_payload"])

    refused = client.post(
        "/verifier/response", data={"state": request["state"], "error": "access_denied"}
    )

    assert refused.status_code == 200
    assert read(client, rp, created).json() == {"status": "cancelled"}


def test_the_result_is_readable_only_for_a_short_time(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    wallet.present(created["qr_payload"])

    with time_machine.travel(utcnow() + dt.timedelta(minutes=3)):
        later = read(client, rp, created).json()

    assert later == {"status": "done"}
    assert read(client, rp, created).json() == {"status": "done"}  # erased, not hidden


# --- waiting for the result ------------------------------------------------------------------


def test_long_poll_returns_at_once_when_done_and_after_the_wait_when_pending(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    started = time.monotonic()
    assert read(client, rp, created, wait="0.6").json() == {"status": "pending"}
    assert time.monotonic() - started >= 0.5
    wallet.present(created["qr_payload"])

    started = time.monotonic()
    assert read(client, rp, created, wait="30").json()["status"] == "done"
    assert time.monotonic() - started < 5
    assert read(client, rp, created, wait="31").status_code == 422


def test_server_sent_events_deliver_the_final_status(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    wallet.present(created["qr_payload"])

    response = client.get(
        f"/verifier/sessions/{created['session_id']}",
        headers={"Accept": "text/event-stream"},
        auth=rp.basic(),
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in response.text.split("\n\n") if e.startswith("event: status")]
    [event] = events
    data = json.loads(event.split("data: ", 1)[1])
    assert data["status"] == "done" and "result" in data


# --- attacks on the response URI -------------------------------------------------------------


def rejected(response: Any, reason: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert reason in body["error_description"], body


def test_a_presentation_bound_to_another_nonce_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)

    rejected(wallet.present(created["qr_payload"], nonce="someone-elses-nonce"), "kb_wrong_nonce")
    assert read(client, rp, created).json() == {"status": "scanned"}


def test_a_presentation_for_another_verifier_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)

    answer = wallet.present(created["qr_payload"], audience="redirect_uri:https://evil")
    rejected(answer, "kb_wrong_audience")


def test_a_replayed_vp_token_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    first = start(client, rp)
    _, request = wallet.resolve_request(first["qr_payload"])
    assert wallet.present(first["qr_payload"]).status_code == 200
    captured = wallet.last_vp_token
    assert captured is not None

    second = start(client, rp)
    rejected(wallet.present(second["qr_payload"], vp_token=captured), "kb_wrong_nonce")
    again = client.post(
        "/verifier/response", data={"state": request["state"], "vp_token": captured}
    )
    rejected(again, "ended")


def test_a_second_response_to_a_finished_session_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    _, request = wallet.resolve_request(created["qr_payload"])
    assert wallet.present(created["qr_payload"]).status_code == 200
    result = read(client, rp, created).json()["result"]
    fresh = holder.present([("postcode_area",)], request["nonce"], CLIENT_ID)

    second = client.post(
        "/verifier/response",
        data={"state": request["state"], "vp_token": json.dumps({"residence": [fresh]})},
    )

    rejected(second, "ended")
    assert read(client, rp, created).json()["result"] == result
    assert client.get(f"/verifier/request/{created['session_id']}").status_code == 404


def test_a_revoked_credential_is_rejected(
    client: TestClient,
    rp: RP,
    wallet: Wallet,
    holder: StoredCredential,
    session: Session,
    account: str,
) -> None:
    issued = session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == account)
    ).one()
    revoke_credential(session, issued.id, "operator", "operator:cli")
    session.commit()
    created = start(client, rp)

    rejected(wallet.present(created["qr_payload"]), "revoked")


def forge(kid: str) -> StoredCredential:
    """A postcode credential as Kluis would issue it, signed by a key Kluis does not hold."""
    forger = ec.generate_private_key(ec.SECP256R1())
    holder_key = ec.generate_private_key(ec.SECP256R1())
    config = AttestationConfig(TEST_ISSUER)
    today = int(time.time())
    forged = issue_sd_jwt(
        {
            "iss": TEST_ISSUER,
            "vct": config.vct("postcode"),
            "exp": today + 86_400,
            "status": {"status_list": {"idx": 0, "uri": config.status_uri("nope")}},
            "postcode": "1087AB",
            "postcode_area": "1087",
        },
        issuer_key=forger,
        disclosable=(("postcode",), ("postcode_area",)),
        alg="ES256",
        typ="dc+sd-jwt",
        kid=kid,
        holder_key=public_jwk(holder_key.public_key()),
        iat=today,
    ).serialize()
    return StoredCredential(forged, holder_key)


def test_a_credential_signed_by_an_untrusted_key_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet
) -> None:
    created = start(client, rp)

    answer = wallet.present(created["qr_payload"], credential=forge("es256-forged"))

    rejected(answer, "issuer_key_unresolved")
    assert read(client, rp, created).json() == {"status": "scanned"}


def test_a_credential_forged_under_kluis_own_key_id_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet
) -> None:
    es256 = [k for k in client.get("/jwks.json").json()["keys"] if k["alg"] == "ES256"]
    created = start(client, rp)

    answer = wallet.present(created["qr_payload"], credential=forge(es256[-1]["kid"]))

    rejected(answer, "invalid_signature")


def test_a_stale_key_binding_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    _, request = wallet.resolve_request(created["qr_payload"])
    stale = HeldSdJwt.parse(holder.credential).present(
        [("postcode_area",)],
        holder_key=holder.key,
        nonce=request["nonce"],
        audience=CLIENT_ID,
        iat=int(time.time()) - 600,
    )

    answer = client.post(
        "/verifier/response",
        data={"state": request["state"], "vp_token": json.dumps({"residence": [stale]})},
    )

    rejected(answer, "kb_stale")


def test_an_expired_session_accepts_no_response(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    _, request = wallet.resolve_request(created["qr_payload"])

    with time_machine.travel(utcnow() + dt.timedelta(minutes=6)):
        assert read(client, rp, created).json() == {"status": "expired"}
        presentation = holder.present([("postcode_area",)], request["nonce"], CLIENT_ID)
        late = client.post(
            "/verifier/response",
            data={"state": request["state"], "vp_token": json.dumps({"residence": [presentation]})},
        )
        assert client.get(f"/verifier/request/{created['session_id']}").status_code == 404
        assert client.get(created["qr_png_url"].removeprefix(TEST_ISSUER)).status_code == 404

    rejected(late, "ended")


def test_a_presentation_that_does_not_cover_the_query_is_rejected(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)

    rejected(wallet.present(created["qr_payload"], [("municipality", "code")]), "cover")


def test_malformed_vp_tokens_are_rejected(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)

    rejected(wallet.present(created["qr_payload"], vp_token="not json"), "JSON")
    rejected(wallet.present(created["qr_payload"], vp_token='{"other": ["x"]}'), "not in the query")
    rejected(wallet.present(created["qr_payload"], vp_token='{"residence": "x"}'), "array")
    unknown = client.post("/verifier/response", data={"state": "nope", "vp_token": "{}"})
    rejected(unknown, "state")


def test_unread_results_are_erased_and_old_sessions_deleted_by_later_sessions(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential, session: Session
) -> None:
    from attestations.verifier.models import VerifierSession

    done = start(client, rp)
    wallet.present(done["qr_payload"])
    with time_machine.travel(utcnow() + dt.timedelta(minutes=3)):
        start(client, rp)
    session.expire_all()
    row = session.get(VerifierSession, done["session_id"])
    assert row is not None and row.result is None and row.status == "done"

    with time_machine.travel(utcnow() + dt.timedelta(days=2)):
        start(client, rp)
    session.expire_all()
    assert session.get(VerifierSession, done["session_id"]) is None


def test_deleting_a_finished_session_erases_its_result_at_once(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential
) -> None:
    created = start(client, rp)
    wallet.present(created["qr_payload"])

    deleted = client.delete(f"/verifier/sessions/{created['session_id']}", auth=rp.basic())

    assert deleted.status_code == 200 and deleted.json() == {"status": "done"}
    assert read(client, rp, created).json() == {"status": "done"}


def test_one_session_can_ask_for_two_credentials(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential, make_offer: MakeOffer
) -> None:
    offer = make_offer("age")
    wallet.accept(offer.offer_uri, offer.tx_code)
    age = {
        "id": "adult",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [f"{TEST_ISSUER}/vct/age"]},
        "claims": [
            {"id": "a21", "path": ["age_over_21"]},
            {"id": "a18", "path": ["age_over_18"]},
        ],
        "claim_sets": [["a18"], ["a21"]],
    }
    query = area_query()
    query["credentials"].append(age)
    created = start(client, rp, dcql_query=query)

    answer = wallet.present(created["qr_payload"], [("postcode_area",), ("age_over_18",)])

    assert answer.status_code == 200, answer.text
    result = verified_result(client, rp, read(client, rp, created).json()["result"])
    claims = {e["id"]: e["claims"] for e in result["credentials"]}
    assert claims == {"residence": {"postcode_area": "1087"}, "adult": {"age_over_18": True}}
