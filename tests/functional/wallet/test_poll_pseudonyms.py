"""Per-resident poll pseudonyms: one person, one vote. The pseudonym follows the Kluis account
a credential was issued to (through its status list entry), not the wallet key."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from attestations import AttestationConfig, create_offer
from attestations.models import IssuedCredential
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.wallet.conftest import IssueToWallet
from tests.support.attestations import INPUTS, make_account
from tests.support.oidc import RP, Resident, code_flow, exchange, make_rp
from tests.support.wallet import StoredCredential, Wallet

POSTCODE_VCT = f"{TEST_ISSUER}/vct/postcode"
QUERY = {
    "credentials": [
        {
            "id": "residence",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [POSTCODE_VCT]},
            "claims": [{"path": ["postcode_area"]}],
        }
    ]
}


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def other_rp(session: Session) -> RP:
    return make_rp(session, "Ander platform", redirect_uris=["https://ander.example.nl/cb"])


def batch(
    client: TestClient, runtime: Runtime, session: Session, account_id: str, count: int
) -> list[StoredCredential]:
    created = create_offer(
        session,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=account_id,
        type_id="postcode",
        claims=INPUTS["postcode"],
        actor="operator:cli",
    )
    session.commit()
    return Wallet(client).accept(created.offer_uri, created.tx_code, count=count)


def vote(client: TestClient, rp: RP, credential: StoredCredential, poll_id: str) -> dict[str, Any]:
    body = {"dcql_query": QUERY, "purpose": "Stemmen", "poll_id": poll_id}
    created = client.post("/verifier/sessions", json=body, auth=rp.basic()).json()
    wallet = Wallet(client, credentials=[credential])
    assert wallet.present(created["qr_payload"]).status_code == 200
    status = client.get(f"/verifier/sessions/{created['session_id']}", auth=rp.basic()).json()
    result: dict[str, Any] = jwt.decode(status["result"], options={"verify_signature": False})
    return result


def test_two_credentials_of_one_batch_give_the_same_pseudonym_for_one_poll(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, other_rp: RP, resident: Resident
) -> None:
    first, second = batch(client, runtime, session, resident.account_id, 2)
    a = vote(client, rp, first, "buurtbudget-2027")["poll_pseudonym"]
    b = vote(client, rp, second, "buurtbudget-2027")["poll_pseudonym"]
    assert a == b
    assert vote(client, rp, first, "speeltuin-2027")["poll_pseudonym"] != a
    assert vote(client, other_rp, first, "buurtbudget-2027")["poll_pseudonym"] != a


def test_another_resident_gets_another_pseudonym(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, resident: Resident
) -> None:
    [mine] = batch(client, runtime, session, resident.account_id, 1)
    [theirs] = batch(client, runtime, session, make_account(session, runtime.subject_keys), 1)
    assert (
        vote(client, rp, mine, "p")["poll_pseudonym"]
        != vote(client, rp, theirs, "p")["poll_pseudonym"]
    )


def test_the_built_in_wallet_and_a_wallet_app_vote_as_the_same_resident(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    rp: RP,
    resident: Resident,
    to_wallet: IssueToWallet,
) -> None:
    from attestations.wallet import usable_credentials

    [from_app] = batch(client, runtime, session, resident.account_id, 1)
    to_wallet("postcode")
    [held] = usable_credentials(session, runtime.subject_keys, resident.account_id)
    built_in = StoredCredential(held.sd_jwt, held.holder_key)
    assert (
        vote(client, rp, from_app, "p")["poll_pseudonym"]
        == vote(client, rp, built_in, "p")["poll_pseudonym"]
    )


def test_without_an_account_there_is_no_pseudonym_and_the_result_says_why(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, resident: Resident
) -> None:
    [credential] = batch(client, runtime, session, resident.account_id, 1)
    # what erasure leaves of an issued credential: no account any more
    session.execute(update(IssuedCredential).values(account_id=None))
    session.commit()
    result = vote(client, rp, credential, "p")
    assert "poll_pseudonym" not in result
    assert result["poll_pseudonym_unavailable"] == "no_account"
    assert result["poll_id"] == "p"


def oidc_poll(client: TestClient, rp: RP, poll_id: str, **extra: str) -> tuple[dict[str, str], str]:
    """An authorization request for `poll_id`'s pseudonym: the redirect query and PKCE verifier
    (the consent screen, if shown, is answered with consent)."""
    claims = json.dumps({"id_token": {"poll_pseudonym": {"value": poll_id}}})
    query, verifier, _ = code_flow(
        client, rp, allow=["poll_pseudonym"], scope="openid", claims=claims, **extra
    )
    return query, verifier


def test_the_verifier_and_the_oidc_claim_give_different_pseudonyms_for_one_poll(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, resident: Resident
) -> None:
    """An anonymous QR vote must not be linkable to the `sub` that comes with the OIDC claim."""
    (credential,) = batch(client, runtime, session, resident.account_id, 1)
    by_qr = vote(client, rp, credential, "buurtbudget-2027")["poll_pseudonym"]

    query, verifier = oidc_poll(client, rp, "buurtbudget-2027")
    tokens = exchange(client, rp, query["code"], verifier).json()
    by_login = jwt.decode(tokens["id_token"], options={"verify_signature": False})

    assert by_login["poll_pseudonym"] != by_qr
    assert by_qr not in json.dumps(by_login)


def test_an_anonymous_qr_vote_cannot_be_tied_to_a_sub_through_oidc(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, resident: Resident
) -> None:
    """The attack: the resident once consented to a poll pseudonym over OIDC; the platform runs
    an "anonymous" QR poll, then asks silently (`prompt=none`) for that poll's pseudonym."""
    oidc_poll(client, rp, "eerdere-peiling")  # consent given once, for another poll
    (credential,) = batch(client, runtime, session, resident.account_id, 1)
    anonymous = vote(client, rp, credential, "buurtbudget-2027")["poll_pseudonym"]

    silent, _ = oidc_poll(client, rp, "buurtbudget-2027", prompt="none")
    assert silent.get("error") == "consent_required" and "code" not in silent

    # even when the resident does consent, the value is not the anonymous one
    query, verifier = oidc_poll(client, rp, "buurtbudget-2027")
    tokens = exchange(client, rp, query["code"], verifier).json()
    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    userinfo = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert id_token["poll_pseudonym"] != anonymous
    assert anonymous not in json.dumps(id_token) + json.dumps(userinfo)
