"""A resident who loses their peer `real_person` attestation is told by e-mail as well as on
their vouching page (issue 10: "revoked, notified, may re-verify"): through the accounts'
mailer, in the language they claimed it in, only once the decision is committed, never naming
who was found fake or erased; the fake itself and desk accounts without e-mail get none."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters import FileOutbox
from attestations import vouching
from attestations.vouching.models import PeerGrant
from identity.accounts.models import Account
from rights import settle_vouching
from rights.erasure import execute_erasure
from rights.vouching_mail import stage_lapse_mails
from rights.vouching_steward import decide_report
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.rights.vouching_world import EMAILS, NAMES, World, build_world
from tests.support.oidc import hidden_fields, make_resident

NEVER_SAID = ("fake", "nep", "gewist", "erased", "erasure", "verwijderd", "steward")


@pytest.fixture
def world(client: TestClient, runtime: Runtime, session: Session) -> World:
    return build_world(client, runtime, session, steward_logged_in=False)


def outbox(runtime: Runtime) -> FileOutbox:
    mailer = runtime.accounts.mailer
    assert isinstance(mailer, FileOutbox)
    return mailer


def lapse_mails(runtime: Runtime) -> list[EmailMessage]:
    subjects = ("Je bewijs 'echt persoon' geldt niet meer", "Your 'real person' proof")
    return [m for m in outbox(runtime).messages() if str(m["Subject"]).startswith(subjects)]


def text_of(message: EmailMessage) -> str:
    body = message.get_body()
    assert body is not None
    return str(body.get_content())


def told_plainly(message: EmailMessage) -> str:
    """The message's body, checked to name nobody and no cause beyond the rules."""
    text = text_of(message)
    lowered = text.lower()
    assert not [word for word in NEVER_SAID if word in lowered], text
    assert NAMES["jan"] not in text and NAMES["klaas"] not in text
    assert f"{TEST_ISSUER}/account/vouching" in text
    return text


def test_the_settle_mails_a_resident_who_lost_real_person_in_dutch(
    runtime: Runtime, session: Session, world: World
) -> None:
    execute_erasure(
        session, runtime.oidc, account_id=world["jan"], requested_by="operator", actor="t"
    )
    session.commit()  # an erasure the graph did not hear of: the settle finds Klaas wanting
    assert lapse_mails(runtime) == []
    outcome, _ = settle_vouching(
        session, runtime.oidc, runtime.vouching, mailer=runtime.accounts.mailer
    )
    assert [lapse.lost_real_person for lapse in outcome.lapsed] == [True]
    [mail] = lapse_mails(runtime)
    assert mail["To"] == EMAILS["klaas"]
    assert mail["Subject"] == "Je bewijs 'echt persoon' geldt niet meer"
    text = told_plainly(mail)
    assert "is op " in text and "ingetrokken: een van de bevestigingen" in text
    assert "Vraag buren die je kennen" in text and "balie" in text
    settle_vouching(session, runtime.oidc, runtime.vouching, mailer=runtime.accounts.mailer)
    assert len(lapse_mails(runtime)) == 1  # told once


def test_the_mail_speaks_the_language_the_proof_was_claimed_in(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    people = {
        who: make_resident(runtime, session, email=EMAILS[who], name=NAMES[who])
        for who in ("jan", "piet")
    }
    klaas = make_resident(runtime, session, client, email=EMAILS["klaas"], name=NAMES["klaas"])
    for who in ("jan", "piet"):
        vouching.appoint_seed(
            session, runtime.subject_keys, account_id=people[who].account_id, actor="t"
        )
        opened = vouching.open_request(
            session, runtime.subject_keys, runtime.vouching, vouchee_id=klaas.account_id
        )
        vouching.confirm(
            session,
            runtime.subject_keys,
            runtime.vouching,
            voucher_id=people[who].account_id,
            request_id=opened.id,
        )
        session.commit()
    page = client.get("/account/vouching?lang=en")
    token = hidden_fields(page.text)["csrf_token"]
    claimed = client.post("/account/vouching/claim?lang=en", data={"csrf_token": token})
    assert claimed.status_code == 200, claimed.text
    [grant] = session.scalars(select(PeerGrant)).all()
    assert grant.language == "en"
    # the grant lapses by expiry; its resident held the proof and now holds none
    lapse = vouching.Lapse(klaas.account_id, grant.id, ("credential",), True)
    session.execute(
        update(PeerGrant)
        .where(PeerGrant.id == grant.id)
        .values(lapsed_at=grant.granted_at, lapse_reason="expired")
    )
    staged = stage_lapse_mails(
        session, runtime.accounts.mailer, runtime.subject_keys, TEST_ISSUER, [lapse]
    )
    assert staged == 1 and lapse_mails(runtime) == []  # not before the commit
    session.commit()
    [mail] = lapse_mails(runtime)
    assert mail["Subject"] == "Your 'real person' proof is no longer valid"
    text = told_plainly(mail)
    assert "expired on" in text and "Ask neighbours who know you" in text


def test_a_steward_finding_a_voucher_fake_mails_those_who_lost_real_person_on_commit_only(
    runtime: Runtime, session: Session, world: World
) -> None:
    report = vouching.report_fake(
        session, runtime.subject_keys, reporter_id=world["piet"], reported_id=world["jan"]
    )
    session.commit()

    def decide() -> None:
        decide_report(
            session,
            runtime.oidc,
            runtime.vouching,
            report_id=report,
            steward_id=world["steward"],
            fake=True,
            mailer=runtime.accounts.mailer,
        )

    decide()
    session.rollback()
    assert lapse_mails(runtime) == []  # a decision rolled back tells no one
    decide()
    session.commit()
    [mail] = lapse_mails(runtime)
    assert mail["To"] == EMAILS["klaas"]  # not Jan, the fake
    told_plainly(mail)


def test_an_erasure_mails_those_whose_proof_rested_on_the_erased_account(
    runtime: Runtime, session: Session, world: World
) -> None:
    execute_erasure(
        session,
        runtime.oidc,
        account_id=world["jan"],
        requested_by="resident",
        actor="resident",
        accounts=runtime.accounts,
        vouching_config=runtime.vouching,
    )
    session.commit()
    [mail] = lapse_mails(runtime)
    assert mail["To"] == EMAILS["klaas"]
    told_plainly(mail)


def test_a_desk_account_without_e_mail_gets_no_mail(
    runtime: Runtime, session: Session, world: World
) -> None:
    [grant] = session.scalars(select(PeerGrant).where(PeerGrant.account_id == world["klaas"]))
    account = session.get(Account, world["klaas"])
    assert account is not None
    account.email_enc, account.email_index = None, None  # as the desk creates them
    session.execute(
        update(PeerGrant)
        .where(PeerGrant.id == grant.id)
        .values(lapsed_at=grant.granted_at, lapse_reason="below_threshold")
    )
    lapse = vouching.Lapse(world["klaas"], grant.id, ("credential",), True)
    assert (
        stage_lapse_mails(
            session, runtime.accounts.mailer, runtime.subject_keys, TEST_ISSUER, [lapse]
        )
        == 0
    )
    session.commit()
    assert lapse_mails(runtime) == []
