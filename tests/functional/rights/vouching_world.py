"""A small neighbourhood for the steward and integration tests of peer vouching: two seed
vouchers (Jan, Piet) confirm Klaas, who collects a peer `real_person` attestation and lets a
platform (with an events endpoint) receive the `real_person` claim; a steward to decide."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from attestations import vouching
from consent import record_decision
from identity.accounts.roles import STEWARD, grant_role
from rights.signals import DELIVERY_KIND, TOKEN_CLAIMS_CHANGE
from service.runtime import Runtime
from tests.support.oidc import RP, make_resident, make_rp
from tests.support.wallet import Wallet

NAMES = {"jan": "Jan Jansen", "piet": "Piet Pietersen", "klaas": "Klaas Vaessen"}
EMAILS = {who: f"{who}@example.org" for who in (*NAMES, "steward")}


@dataclass
class World:
    ids: dict[str, str]
    rp: RP

    def __getitem__(self, who: str) -> str:
        return self.ids[who]


def confirm(session: Session, runtime: Runtime, voucher: str, vouchee: str) -> str:
    opened = vouching.open_request(
        session, runtime.subject_keys, runtime.vouching, vouchee_id=vouchee
    )
    confirmation = vouching.confirm(
        session,
        runtime.subject_keys,
        runtime.vouching,
        voucher_id=voucher,
        request_id=opened.id,
    )
    session.commit()
    return confirmation


def collect_peer_attestation(
    client: TestClient, session: Session, runtime: Runtime, account: str
) -> None:
    """Offer the peer attestation and collect it with a wallet (so there is a credential to
    revoke when the grant lapses)."""
    offer = vouching.issue_peer_attestation(
        session, runtime.subject_keys, runtime.vouching, account_id=account
    )
    session.commit()
    Wallet(client).accept(offer.offer.offer_uri, offer.offer.tx_code)


def consent_to(session: Session, runtime: Runtime, account: str, rp: RP, *claims: str) -> None:
    record_decision(
        session,
        account_id=account,
        subject_ref=runtime.subject_keys.reference(session, account),
        client_id=rp.client_id,
        given=claims,
        refused=[],
    )
    session.commit()


def build_world(
    client: TestClient, runtime: Runtime, session: Session, *, steward_logged_in: bool = True
) -> World:
    """Jan and Piet (seeds) confirm Klaas, who collects `real_person` and shares it with the
    platform; the steward's browser session is the client's when `steward_logged_in`."""
    ids = {
        who: make_resident(runtime, session, email=EMAILS[who], name=name).account_id
        for who, name in NAMES.items()
    }
    browser = client if steward_logged_in else None
    steward = make_resident(runtime, session, browser, email=EMAILS["steward"], name="Sam")
    ids["steward"] = steward.account_id
    grant_role(session, runtime.subject_keys, steward.account_id, STEWARD, "operator:test")
    for seed in ("jan", "piet"):
        vouching.appoint_seed(
            session, runtime.subject_keys, account_id=ids[seed], actor="operator:test"
        )
    session.commit()
    confirm(session, runtime, ids["jan"], ids["klaas"])
    confirm(session, runtime, ids["piet"], ids["klaas"])
    collect_peer_attestation(client, session, runtime, ids["klaas"])
    rp = make_rp(session, events_uri="https://buurt.example.nl/events")
    consent_to(session, runtime, ids["klaas"], rp, "real_person", "email")
    return World(ids, rp)


def claims_changes(session: Session) -> list[Delivery]:
    """The token-claims-change SETs queued, oldest first."""
    rows = session.scalars(
        select(Delivery).where(Delivery.kind == DELIVERY_KIND).order_by(Delivery.created_at)
    )
    return [row for row in rows if TOKEN_CLAIMS_CHANGE in row.payload["events"]]
