"""Pairing codes and per-resident pseudonyms at the domain level."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.statuslist import StatusReference, record_issued
from attestations.verifier.config import VerifierConfig
from attestations.verifier.pseudonym import NO_ACCOUNT, SEVERAL_RESIDENTS, pseudonym_claims
from attestations.verifier.session import create_session
from attestations.wallet.errors import PairingFailed, SessionEnded
from attestations.wallet.models import WalletPairing
from attestations.wallet.pairing import MAX_ATTEMPTS, check_pairing_code, open_session
from core.db import utcnow
from keys import SubjectKeys
from tests.support.attestations import make_account
from tests.support.oidc import make_rp

ISSUER = "http://testserver"
QUERY = {
    "credentials": [
        {
            "id": "r",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [f"{ISSUER}/vct/postcode"]},
            "claims": [{"path": ["postcode_area"]}],
        }
    ]
}


def issued(session: Session, account_id: str) -> tuple[str, StatusReference]:
    config = AttestationConfig(ISSUER)
    now = utcnow()
    row = record_issued(
        session,
        config,
        account_id=account_id,
        type_id="postcode",
        issued_at=now,
        expires_at=now + dt.timedelta(days=1),
    )
    return ISSUER, StatusReference(config.status_uri(row.status_list_id), row.status_idx)


def test_pseudonyms_need_exactly_one_kluis_account(
    session: Session, subject_keys: SubjectKeys
) -> None:
    a, b = make_account(session, subject_keys), make_account(session, subject_keys)
    mine, also_mine, theirs = issued(session, a), issued(session, a), issued(session, b)
    key = b"k" * 32

    one = pseudonym_claims(session, key, ISSUER, "sector", "poll", [mine, also_mine])
    assert set(one) == {"poll_pseudonym"}
    assert pseudonym_claims(session, key, ISSUER, "sector", "poll", [mine, theirs]) == {
        "poll_pseudonym_unavailable": SEVERAL_RESIDENTS
    }
    foreign = ("https://elders.example", mine[1])  # same status entry, another issuer
    assert pseudonym_claims(session, key, ISSUER, "sector", "poll", [foreign]) == {
        "poll_pseudonym_unavailable": NO_ACCOUNT
    }


def test_the_right_code_no_longer_pairs_after_the_attempts_ran_out(
    session: Session, subject_keys: SubjectKeys
) -> None:
    rp = make_rp(session)
    account = make_account(session, subject_keys)
    row = create_session(
        session, VerifierConfig(ISSUER), rp.client_id, {"dcql_query": QUERY, "purpose": "p"}
    )
    pairing = open_session(session, row.id, account)
    session.execute(
        update(WalletPairing)
        .where(WalletPairing.session_id == row.id)
        .values(failed_attempts=MAX_ATTEMPTS)
    )
    session.refresh(pairing)

    with pytest.raises(PairingFailed) as failed:
        check_pairing_code(session, pairing, pairing.code)

    assert failed.value.attempts_left == 0 and pairing.paired_at is None
    with pytest.raises(SessionEnded):
        open_session(session, row.id, account)  # the session was cancelled
