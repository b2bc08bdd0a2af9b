"""The desk over HTTP: only an operator with the desk role reaches it (everyone else gets the
404 of an unknown path); after ticking that an ID document was checked, the operator offers a
proof to a resident, whom the audit log names by reference and the operator by an opaque
actor; a desk account gets a paper activation code; revoking the role ends access at once."""

from __future__ import annotations

import datetime as dt
import html

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.models import CredentialOffer
from attestations.sdjwt import HeldSdJwt
from attestations.vouching.models import ConfirmationRequest
from attestations.wallet.store import usable_credentials
from audit.models import AuditEntry
from core.db import utcnow
from identity import DESK, SESSION_COOKIE, grant_role, revoke_role, start_browser_session
from identity.accounts.models import Account
from service.runtime import Runtime
from tests.support.audit import discloses
from tests.support.oidc import Resident, hidden_fields, make_resident
from tests.support.qr import qr_codes_in
from tests.support.wallet import Wallet

RESIDENT = "bewoner@example.org"
OPERATOR = "balie@example.org"
POSTCODE = {
    "type": "postcode",
    "postcode-resident": RESIDENT,
    "postcode": "1087 ab",
    "municipality_code": "gm0363",
    "municipality_name": "Amsterdam",
    "document_checked": "yes",
}


@pytest.fixture
def resident(runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, None, email=RESIDENT)


@pytest.fixture
def operator(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> Resident:
    found = make_resident(runtime, session, client, email=OPERATOR, name="Baliemedewerker")
    grant_role(session, runtime.subject_keys, found.account_id, DESK, "operator:test")
    session.commit()
    return found


def post(client: TestClient, path: str, data: dict[str, str]) -> httpx.Response:
    token = hidden_fields(client.get("/account").text)["csrf_token"]
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def test_only_desk_operators_reach_the_desk(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    make_resident(runtime, session, client, email="iemand@example.org")
    assert client.get("/desk").status_code == 404
    assert post(client, "/desk/offers", POSTCODE).status_code == 404
    assert session.scalars(select(CredentialOffer)).all() == []
    client.cookies.clear()
    assert client.get("/desk").status_code == 404  # not logged in: the same answer


def test_an_operator_offers_a_postcode_proof_the_resident_keeps(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident: Resident,
    operator: Resident,
) -> None:
    assert 'href="/desk"' in client.get("/account").text
    page = post(client, "/desk/offers", POSTCODE)

    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    [offer] = session.scalars(select(CredentialOffer)).all()
    assert offer.account_id == resident.account_id and offer.type == "postcode"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "attestation.offered")
    ).one()
    operator_ref = runtime.subject_keys.reference(session, operator.account_id)
    assert entry.actor == f"desk:{operator_ref}"
    assert not discloses(entry.entry, OPERATOR) and not discloses(entry.entry, RESIDENT)

    tx_code = page.text.split('class="code">')[1].split("<")[0]
    client.cookies.clear()
    # at home, hours later: a proof made at the desk waits a day
    with time_machine.travel(utcnow() + dt.timedelta(hours=20)):
        make_resident_session(client, runtime, session, resident)
        kept = post(client, "/account/wallet/keep", {"offer_id": offer.id, "tx_code": tx_code})
    assert kept.status_code == 303 and kept.headers["location"] == "/account?wallet=kept#wallet"
    [held] = usable_credentials(session, runtime.subject_keys, resident.account_id)
    assert held.claims["residence_source"] == "desk"
    assert held.claims["postcode"] == "1087AB"
    assert held.claims["municipality"] == {"code": "GM0363", "name": "Amsterdam"}


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"document_checked": ""}, "document_checked", "identiteitsbewijs hebt gecontroleerd"),
        ({"postcode-resident": "niemand@example.org"}, "postcode-resident", "geen account"),
        ({"postcode": "0000 AA"}, "postcode", "Nederlandse postcode"),
    ],
)
def test_a_refused_offer_says_why_and_offers_nothing(
    client: TestClient,
    session: Session,
    operator: Resident,
    change: dict[str, str],
    field: str,
    text: str,
) -> None:
    form = {k: v for k, v in {**POSTCODE, **change}.items() if v}
    page = post(client, "/desk/offers", form)
    assert page.status_code == 400
    assert text in page.text
    assert 'aria-invalid="true"' in page.text
    assert session.scalars(select(CredentialOffer)).all() == []


def test_a_refused_offer_reports_every_error_at_once_first_on_the_page(
    client: TestClient, session: Session, resident: Resident, operator: Resident
) -> None:
    form = {
        **POSTCODE,
        "postcode-resident": "niemand@example.org",
        "postcode": "0000 AA",
        "house_number": "nul",
        "document_checked": "",
    }
    page = post(client, "/desk/offers", form)

    assert page.status_code == 400
    main = page.text.split('<main id="main" tabindex="-1">')[1]
    summary = main.split('class="error-summary"')[1].split("</div>")[0]
    assert main.index('class="error-summary"') < main.index("<p>")  # before the intro
    assert 'role="alert"' in summary and 'tabindex="-1" autofocus' in summary
    links = [
        '<a href="#postcode-resident">Er is geen account',
        '<a href="#postcode">Vul een Nederlandse postcode',
        '<a href="#house_number">Vul een huisnummer',
        '<a href="#postcode-document">Vink aan',
    ]
    assert all(link in summary for link in links), summary
    assert [summary.index(link) for link in links] == sorted(summary.index(x) for x in links)
    for field in ("postcode-resident-error", "postcode-error", "house_number-error"):
        assert f'id="{field}"' in main  # and beside the field, too
    assert 'id="postcode-document-error"' in main
    assert "<title>Balie: controleer het formulier" in page.text
    assert 'value="niemand@example.org"' in main and 'value="0000 AA"' in main
    assert session.scalars(select(CredentialOffer)).all() == []


def test_a_refused_offer_keeps_the_box_ticked_and_the_birth_date(
    client: TestClient, session: Session, operator: Resident
) -> None:
    form = {
        "type": "age",
        "age-resident": "niemand@example.org",
        "birth_date": "2999-01-01",
        "document_checked": "yes",
    }
    page = post(client, "/desk/offers", form)

    assert page.status_code == 400
    assert '<a href="#age-resident">' in page.text and '<a href="#birth_date">' in page.text
    assert 'id="birth_date" name="birth_date" type="date"' in page.text
    assert 'value="2999-01-01"' in page.text
    box = page.text.split('id="age-document"')[1].split(">")[0]
    assert box.endswith(" checked") or " checked " in box
    other = page.text.split('id="postcode-document"')[1].split(">")[0]
    assert not other.endswith(" checked") and " checked " not in other  # this form only
    assert session.scalars(select(CredentialOffer)).all() == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_empty_resident_field_asks_to_fill_it_in(
    client: TestClient, session: Session, operator: Resident, lang: str
) -> None:
    client.cookies.set("kluis_lang", lang)
    form = {"type": "real_person", "real_person-resident": " ", "document_checked": "yes"}
    page = post(client, "/desk/offers", form)
    assert page.status_code == 400
    expected = {
        "nl": "Vul het e-mailadres of de gebruikersnaam van de bewoner in.",
        "en": "Enter the resident&#39;s e-mail address or username.",
    }[lang]
    assert expected in page.text, page.text
    assert "geen account" not in page.text and "no account" not in page.text
    assert session.scalars(select(CredentialOffer)).all() == []


def test_the_desk_opens_no_neighbour_request_for_a_resident_with_a_long_valid_proof(
    client: TestClient, session: Session, resident: Resident, operator: Resident
) -> None:
    form = {"type": "real_person", "real_person-resident": RESIDENT, "document_checked": "yes"}
    page = post(client, "/desk/offers", form)
    qr_svg = html.unescape(page.text.split('class="qr" src="')[1].split('"')[0])
    [scanned] = qr_codes_in(client.get(qr_svg.replace("/qr.svg", "/qr.png")).content)
    Wallet(client).accept(scanned.text, page.text.split('class="code">')[1].split("<")[0])

    shown = post(client, "/desk/vouching", {"vouching-resident": RESIDENT})

    assert shown.status_code == 200
    assert "al een bewijs &#39;echt persoon&#39; dat nog lang geldig is" in shown.text
    assert 'id="vouch-qr"' not in shown.text and 'id="vouch-short"' not in shown.text
    assert "kluis_vouch" not in shown.headers.get("set-cookie", "")
    assert session.scalars(select(ConfirmationRequest)).all() == []


def test_a_wallet_written_from_the_spec_collects_the_desk_s_offer(
    client: TestClient, session: Session, resident: Resident, operator: Resident
) -> None:
    """The operator shows the QR code and the transaction code; a wallet app that knows only
    OpenID4VCI collects the proof with them."""
    form = {"type": "real_person", "real_person-resident": RESIDENT, "document_checked": "yes"}
    page = post(client, "/desk/offers", form)
    qr_svg = html.unescape(page.text.split('class="qr" src="')[1].split('"')[0])
    png = client.get(qr_svg.replace("/qr.svg", "/qr.png")).content
    [scanned] = qr_codes_in(png)  # what the phone's camera reads
    tx_code = page.text.split('class="code">')[1].split("<")[0]

    [stored] = Wallet(client).accept(scanned.text, tx_code)

    claims = HeldSdJwt.parse(stored.credential).claims
    assert claims["real_person"] is True and claims["verification"] == "desk"


def test_an_age_proof_from_the_desk_keeps_no_birth_date(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident, operator: Resident
) -> None:
    form = {
        "type": "age",
        "age-resident": RESIDENT,
        "birth_date": "1990-05-17",
        "document_checked": "yes",
    }
    assert post(client, "/desk/offers", form).status_code == 200
    entries = session.scalars(select(AuditEntry)).all()
    assert not any(discloses(e.entry, "1990-05-17") for e in entries)


def test_a_desk_account_gets_a_paper_activation_code(
    client: TestClient, runtime: Runtime, session: Session, operator: Resident
) -> None:
    page = post(client, "/desk/accounts", {"name": "Mevrouw Zonder Mail"})

    assert page.status_code == 200, page.text
    handle = page.text.split('class="code">')[1].split("<")[0]
    account = session.scalars(select(Account).where(Account.handle == handle)).one()
    assert account.status == "pending_activation"
    registered = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "account.registered")
    ).all()
    assert registered[-1].actor.startswith("desk:")


def test_revoking_the_role_ends_access_at_once(
    client: TestClient, runtime: Runtime, session: Session, operator: Resident
) -> None:
    assert client.get("/desk").status_code == 200
    revoke_role(session, runtime.subject_keys, operator.account_id, DESK, "operator:test")
    session.commit()
    assert client.get("/desk").status_code == 404


def make_resident_session(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    """Log the (existing) resident in in this browser."""
    started = start_browser_session(session, resident.account_id, ttl=dt.timedelta(hours=1))
    session.commit()
    client.cookies.set(SESSION_COOKIE, started.sid)
