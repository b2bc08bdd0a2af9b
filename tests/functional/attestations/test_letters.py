"""Letters over HTTP, in-process: a resident redeems a letter's code at `/letters/redeem`, and
a platform sends a paper vote to `POST /letters/votes`. One letter, one vote: the paper vote
and a QR vote with the letter's credential give the same poll pseudonym."""

from __future__ import annotations

import html
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from attestations import AttestationConfig, create_offer
from attestations.letters.admin import letters_status
from attestations.letters.codes import grouped, new_code
from attestations.letters.config import ATTEMPTS_PER_ACCOUNT, LettersConfig
from attestations.letters.errors import LetterTaken
from attestations.letters.lookup import REFERENCE_PURPOSE
from attestations.letters.models import LetterCode
from attestations.letters.service import GeneratedBatch, _redeem_again
from attestations.models import CredentialOffer, IssuedCredential
from attestations.sdjwt import HeldSdJwt
from attestations.wallet import usable_credentials
from core.db import utcnow
from rights.erasure_cli import erasure_cli
from rights.field_erasure import execute_field_erasure
from rights.tombstones import Tombstone
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS
from tests.support.dcql import postcode_query
from tests.support.letters import config_of, make_batch
from tests.support.oidc import RP, Resident, hidden_fields, make_resident, make_rp
from tests.support.wallet import StoredCredential, Wallet

POLL = "buurtbudget-2027"
QUERY = postcode_query(TEST_ISSUER)
OFFER_LINK = re.compile(r'id="open-in-app" href="([^"]+)"')


@pytest.fixture
def config(runtime: Runtime) -> LettersConfig:
    return config_of(runtime.settings)


@pytest.fixture
def batch(session: Session, config: LettersConfig) -> GeneratedBatch:
    return make_batch(session, config)


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client)


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


def submit(client: TestClient, code: str, **overrides: str) -> Any:
    page = client.get("/letters/redeem")
    assert page.status_code == 200, page.text
    form = {"csrf_token": hidden_fields(page.text)["csrf_token"], "code": code, **overrides}
    return client.post("/letters/redeem", data=form, follow_redirects=False)


def offer_of(page: str) -> tuple[str, str, str]:
    """The offer page's offer id, transaction code and wallet-app link."""
    fields = hidden_fields(page)
    link = OFFER_LINK.search(page)
    assert link is not None
    return fields["offer_id"], fields["tx_code"], html.unescape(link[1])


def paper(client: TestClient, rp: RP, code: str, poll_id: str = POLL, **extra: Any) -> Any:
    body = {"code": code, "poll_id": poll_id, **extra}
    return client.post("/letters/votes", json=body, auth=rp.basic())


def qr_vote(client: TestClient, rp: RP, credential: StoredCredential) -> dict[str, Any]:
    body = {"dcql_query": QUERY, "purpose": "Stemmen", "poll_id": POLL}
    created = client.post("/verifier/sessions", json=body, auth=rp.basic()).json()
    assert (
        Wallet(client, credentials=[credential]).present(created["qr_payload"]).status_code == 200
    )
    status = client.get(f"/verifier/sessions/{created['session_id']}", auth=rp.basic()).json()
    result: dict[str, Any] = jwt.decode(status["result"], options={"verify_signature": False})
    return result


# --- redeeming -----------------------------------------------------------------------------


def test_the_letters_qr_code_leads_through_the_login_back_to_the_filled_in_form(
    client: TestClient, runtime: Runtime, session: Session, batch: GeneratedBatch
) -> None:
    code = batch.letters[0].code
    response = client.get(f"/letters/redeem?code={code}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?return_to=" + quote(
        f"/letters/redeem?code={code}", safe="/"
    )
    login = client.get(response.headers["location"])
    assert login.status_code == 200 and quote(code) in login.text

    make_resident(runtime, session, client)
    form = client.get(f"/letters/redeem?code={code}&lang=en")
    assert form.status_code == 200 and "Enter the code from your letter" in form.text
    assert f'value="{code}"' in form.text
    assert form.headers["cache-control"] == "no-store"


def test_a_resident_redeems_a_code_and_keeps_the_proof_in_the_kluis_wallet(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    config: LettersConfig,
    batch: GeneratedBatch,
    resident: Resident,
) -> None:
    letter = batch.letters[0]
    response = submit(client, grouped(letter.code).lower())
    assert response.status_code == 200, response.text
    assert "Je bewijs staat klaar" in response.text and "postcodegebied 1087 " in response.text
    offer_id, tx_code, link = offer_of(response.text)
    assert link.startswith("openid-credential-offer://") and tx_code in response.text
    assert re.search(r'src="/credential-offer/[^"/]+/qr\.svg"', response.text)

    kept = client.post(
        "/account/wallet/keep",
        data={
            "csrf_token": hidden_fields(response.text)["csrf_token"],
            "offer_id": offer_id,
            "tx_code": tx_code,
        },
        follow_redirects=False,
    )
    assert kept.headers["location"] == "/account?wallet=kept#wallet"
    [held] = usable_credentials(session, runtime.subject_keys, resident.account_id)
    claims = HeldSdJwt.parse(held.sd_jwt).claims
    assert claims["residence_source"] == "letter" and claims["postcode_area"] == "1087"
    assert (claims["wijkcode"], claims["buurtcode"]) == ("WK036300", "BU03630001")
    registered = {"iss", "vct", "iat", "exp", "cnf", "status", "_sd_alg"}
    assert set(claims) - registered == {  # no house number, no street
        "postcode",
        "postcode_area",
        "municipality",
        "residence_source",
        "wijkcode",
        "buurtcode",
    }
    row = session.scalar(
        select(LetterCode).where(LetterCode.code_hash == config.hasher(letter.code))
    )
    assert row is not None
    issued = session.scalar(
        select(IssuedCredential).where(IssuedCredential.account_id == resident.account_id)
    )
    assert issued is not None and issued.pseudonym_holder == f"letter:{row.id}"


def test_wrong_malformed_and_expired_codes_are_refused_with_a_page_that_says_so(
    client: TestClient,
    session: Session,
    config: LettersConfig,
    batch: GeneratedBatch,
    resident: Resident,
) -> None:
    wrong = submit(client, new_code())
    assert wrong.status_code == 404 and "Deze code kennen we niet" in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    malformed = submit(client, "O0O0O")
    assert malformed.status_code == 422 and "15 letters en cijfers" in malformed.text
    code = batch.letters[1].code
    session.execute(
        update(LetterCode)
        .where(LetterCode.code_hash == config.hasher(code))
        .values(expires_at=utcnow())
    )
    session.commit()
    expired = submit(client, code)
    assert expired.status_code == 410 and "verlopen" in expired.text


def test_an_empty_code_asks_for_the_code(client: TestClient, resident: Resident) -> None:
    """Not "this is not a code from a letter": nothing was typed yet."""
    empty = submit(client, "")
    assert empty.status_code == 400 and "Vul de code uit de brief in." in empty.text
    assert 'aria-invalid="true"' in empty.text and "geen code uit een brief" not in empty.text
    client.cookies.set("kluis_lang", "en")
    blank = submit(client, "  ")
    assert blank.status_code == 400 and "Enter the code from the letter." in blank.text


def test_a_second_account_cannot_redeem_the_same_letter(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    batch: GeneratedBatch,
    resident: Resident,
) -> None:
    code = batch.letters[0].code
    assert submit(client, code).status_code == 200
    make_resident(runtime, session, client, email="tweede@example.org")  # another account
    again = submit(client, code)
    assert again.status_code == 409 and "al gebruikt" in again.text


def test_wrong_codes_are_rate_limited(
    client: TestClient, batch: GeneratedBatch, resident: Resident
) -> None:
    for _ in range(ATTEMPTS_PER_ACCOUNT):
        assert submit(client, new_code()).status_code == 404
    throttled = submit(client, batch.letters[0].code)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "te vaak" in throttled.text


def test_the_form_needs_its_csrf_token(
    client: TestClient, batch: GeneratedBatch, resident: Resident
) -> None:
    assert submit(client, batch.letters[0].code, csrf_token="forged").status_code == 403


# --- paper votes -----------------------------------------------------------------------------


def test_a_platform_gets_one_answer_per_code_and_poll(
    client: TestClient, batch: GeneratedBatch, rp: RP
) -> None:
    code = grouped(batch.letters[1].code)
    first = paper(client, rp, code)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["postcode_area"] == "1087" and body["poll_id"] == POLL
    assert body["municipality"] == {"code": "GM0363", "name": "Amsterdam"}
    assert set(body) == {"postcode_area", "municipality", "poll_id", "poll_pseudonym"}
    assert first.headers["cache-control"] == "no-store"

    second = paper(client, rp, code)
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["type"] == "urn:kluis:problem:letter-already-voted"
    assert paper(client, rp, code, poll_id="another-poll").status_code == 409  # the letter's poll


def test_paper_votes_refuse_unknown_codes_bad_bodies_and_unauthenticated_callers(
    client: TestClient, batch: GeneratedBatch, rp: RP
) -> None:
    assert paper(client, rp, new_code()).json()["type"] == "urn:kluis:problem:letter-code-unknown"
    assert paper(client, rp, "kort").status_code == 422
    assert paper(client, rp, batch.letters[0].code, poll_id="met spatie").status_code == 422
    assert paper(client, rp, batch.letters[0].code, claims=["huisnummer"]).status_code == 422
    anonymous = client.post("/letters/votes", json={"code": batch.letters[0].code, "poll_id": POLL})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    # none of the refusals used the letter up
    assert paper(client, rp, batch.letters[0].code).status_code == 200


def test_a_qr_vote_and_a_paper_vote_of_one_letter_give_one_pseudonym(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    batch: GeneratedBatch,
    resident: Resident,
    rp: RP,
) -> None:
    mine, other = batch.letters[0].code, batch.letters[1].code
    _, tx_code, link = offer_of(submit(client, mine).text)
    [credential] = Wallet(client).accept(link, tx_code)

    by_qr = qr_vote(client, rp, credential)["poll_pseudonym"]
    by_paper = paper(client, rp, mine).json()["poll_pseudonym"]
    assert by_qr == by_paper  # the platform counts this letter once
    assert paper(client, rp, other).json()["poll_pseudonym"] != by_qr  # another letter

    # the resident's second account cannot vote with the letter
    make_resident(runtime, session, client, email="tweede@example.org")
    assert submit(client, mine).status_code == 409


def test_a_poll_counted_per_letter_takes_only_credentials_from_letters(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    batch: GeneratedBatch,
    resident: Resident,
    rp: RP,
) -> None:
    query = {
        "credentials": [
            {
                **QUERY["credentials"][0],
                "claims": [
                    {"path": ["postcode_area"]},
                    {"path": ["residence_source"], "values": ["letter"]},
                ],
            }
        ]
    }
    registry = create_offer(
        session,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=resident.account_id,
        type_id="postcode",
        claims=INPUTS["postcode"],  # residence_source: registry
        actor="operator:cli",
    )
    session.commit()
    [from_registry] = Wallet(client).accept(registry.offer_uri, registry.tx_code)
    _, tx_code, link = offer_of(submit(client, batch.letters[0].code).text)
    [from_letter] = Wallet(client).accept(link, tx_code)

    def vote(credential: StoredCredential) -> Any:
        body = {"dcql_query": query, "purpose": "Stemmen", "poll_id": POLL}
        created = client.post("/verifier/sessions", json=body, auth=rp.basic()).json()
        return Wallet(client, credentials=[credential]).present(created["qr_payload"])

    assert vote(from_registry).status_code == 400  # not from a letter: no vote
    assert vote(from_letter).status_code == 200


def test_erasing_the_postcode_erases_it_from_the_letters_the_resident_redeemed(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    config: LettersConfig,
    batch: GeneratedBatch,
    resident: Resident,
    rp: RP,
) -> None:
    """The audit log's `letter.redeemed` entry names the letter under the resident's
    reference: after the field `postcode` is erased, the letter row holds no address data,
    and the letter (like its credentials) is revoked."""
    mine, other = batch.letters[0], batch.letters[1]
    assert submit(client, mine.code).status_code == 200
    execute_field_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        field="postcode",
        requested_by="resident",
        actor="resident",
    )
    session.commit()

    def row(code: str) -> LetterCode:
        found = session.scalar(
            select(LetterCode)
            .where(LetterCode.code_hash == config.hasher(code))
            .execution_options(populate_existing=True)
        )
        assert found is not None
        return found

    erased = row(mine.code)
    assert (erased.postcode, erased.postcode_area) == ("", "")
    assert erased.wijk_buurt is None and erased.address_ref is None
    assert erased.revoked_at is not None and erased.account_ref is not None
    kept = row(other.code)  # another resident's letter keeps its address
    assert (kept.postcode, kept.postcode_area) == ("1087AB", "1087") and kept.revoked_at is None
    # a paper vote with the erased letter, or redeeming it again, is refused
    vote = paper(client, rp, mine.code)
    assert vote.status_code == 410 and vote.json()["type"].endswith("letter-code-revoked")
    assert submit(client, mine.code).status_code == 410
    areas = {a["postcode_area"]: a for a in letters_status(session)["areas"]}
    assert areas[None]["issued"] == 1 and areas[None]["revoked"] == 1


def test_a_letter_revoked_while_its_resident_redeems_it_again_gives_no_offer(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    config: LettersConfig,
    batch: GeneratedBatch,
    resident: Resident,
) -> None:
    """The race `_redeem_again` closes: the letter was read unrevoked, then revoked (by an
    operator, or by the erasure of the resident's postcode, which empties the row) before
    the UPDATE that takes it again: nothing is offered from what was read."""
    code = batch.letters[0].code
    assert submit(client, code).status_code == 200
    session.execute(delete(CredentialOffer))  # the first offer died uncollected
    session.commit()
    stale = session.scalar(select(LetterCode).where(LetterCode.code_hash == config.hasher(code)))
    assert stale is not None and stale.revoked_at is None
    session.execute(
        update(LetterCode)
        .where(LetterCode.id == stale.id)
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    refs = (
        runtime.subject_keys.reference(session, resident.account_id),
        runtime.subject_keys.reference(session, resident.account_id, REFERENCE_PURPOSE),
    )
    with pytest.raises(LetterTaken):
        _redeem_again(
            session, config, runtime.subject_keys, stale, resident.account_id, refs, utcnow()
        )
    assert session.scalars(select(CredentialOffer)).all() == []


def test_a_reapplied_postcode_erasure_empties_and_revokes_the_redeemed_letter(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    config: LettersConfig,
    batch: GeneratedBatch,
    resident: Resident,
) -> None:
    """After a restore from a backup older than the erasure, `kluis erasure reapply` (as
    `kluis restore` does) erases the letter's address data again."""
    code = batch.letters[0].code
    assert submit(client, code).status_code == 200
    runtime.tombstones.append(
        [
            Tombstone(
                request_id=uuid.uuid4().hex,
                account_id=resident.account_id,
                subject_ref=runtime.subject_keys.reference(session, resident.account_id),
                field="postcode",
                requested_by="resident",
                actor="resident",
                received_at=utcnow(),
                platforms={},
            )
        ]
    )
    result = CliRunner().invoke(erasure_cli, ["reapply", "--json"], obj=runtime)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["reapplied_fields"] == 1
    session.expire_all()
    row = session.scalar(select(LetterCode).where(LetterCode.code_hash == config.hasher(code)))
    assert row is not None and (row.postcode, row.postcode_area) == ("", "")
    assert row.revoked_at is not None
