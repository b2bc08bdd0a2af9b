"""The OpenID4VCI domain functions without HTTP: offers, the token exchange, nonces."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import PRE_AUTH_GRANT, AttestationConfig
from attestations.errors import AccountNotEligible, InvalidClaims
from attestations.issuance import (
    consume_nonce,
    create_offer,
    exchange_pre_authorized_code,
    new_nonce,
    offer_document,
    purge_expired,
)
from attestations.models import CredentialOffer, VciAccessToken
from core.db import utcnow
from core.errors import InvalidGrant, InvalidRequest, NotFound
from identity.accounts.models import Account
from keys import SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import AGE_INPUT, make_account

CONFIG = AttestationConfig(TEST_ISSUER)


def offer(session: Session, subject_keys: SubjectKeys, **kw: object) -> tuple[str, str, str]:
    """(ref, pre-authorized code, tx_code) of a new age offer."""
    account = make_account(session, subject_keys)
    created = create_offer(
        session,
        subject_keys,
        CONFIG,
        account_id=account,
        type_id="age",
        claims=AGE_INPUT,
        actor="operator:cli",
        **kw,  # type: ignore[arg-type]
    )
    ref = created.credential_offer_uri.rsplit("/", 1)[1]
    code = offer_document(session, subject_keys, CONFIG, ref)["grants"][PRE_AUTH_GRANT]
    return ref, code["pre-authorized_code"], created.tx_code


def test_the_offer_uri_holds_the_credential_offer_uri_by_reference(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account = make_account(session, subject_keys)
    created = create_offer(
        session,
        subject_keys,
        CONFIG,
        account_id=account,
        type_id="age",
        claims=AGE_INPUT,
        actor="operator:cli",
    )
    parts = urlsplit(created.offer_uri)
    assert parts.scheme == "openid-credential-offer"
    assert parse_qs(parts.query) == {"credential_offer_uri": [created.credential_offer_uri]}
    assert created.credential_offer_uri.startswith(f"{TEST_ISSUER}/credential-offer/")
    assert created.expires_at - utcnow() <= dt.timedelta(minutes=15)


def test_the_database_holds_no_claims_code_or_pin_in_the_clear(
    session: Session, subject_keys: SubjectKeys
) -> None:
    ref, code, tx_code = offer(session, subject_keys)
    row = session.scalars(select(CredentialOffer)).all()[-1]
    stored = repr(
        [getattr(row, c.key) for c in CredentialOffer.__table__.columns]  # type: ignore[attr-defined]
    )
    for secret in (ref, code, tx_code, "1990", "age_over"):
        assert secret not in stored


def test_offers_for_disabled_or_unknown_accounts_are_refused(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account = make_account(session, subject_keys)
    row = session.get(Account, account)
    assert row is not None
    row.status = "disabled"
    session.flush()
    options = {"type_id": "age", "claims": AGE_INPUT, "actor": "operator:cli"}
    with pytest.raises(AccountNotEligible):
        create_offer(session, subject_keys, CONFIG, account_id=account, **options)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        create_offer(session, subject_keys, CONFIG, account_id="0" * 32, **options)  # type: ignore[arg-type]


def test_invalid_claims_make_no_offer(session: Session, subject_keys: SubjectKeys) -> None:
    account = make_account(session, subject_keys)
    before = len(session.scalars(select(CredentialOffer.id)).all())
    with pytest.raises(InvalidClaims):
        create_offer(
            session,
            subject_keys,
            CONFIG,
            account_id=account,
            type_id="age",
            claims={"birth_date": "tomorrow"},
            actor="operator:cli",
        )
    assert len(session.scalars(select(CredentialOffer.id)).all()) == before


def test_the_exchange_gives_a_short_lived_opaque_token_and_forgets_the_code(
    session: Session, subject_keys: SubjectKeys
) -> None:
    ref, code, tx_code = offer(session, subject_keys)
    body = exchange_pre_authorized_code(
        session, CONFIG, {"pre-authorized_code": code, "tx_code": tx_code}
    )

    assert body["token_type"] == "Bearer" and body["expires_in"] <= 300
    assert session.get(VciAccessToken, body["access_token"]) is None  # only its hash is stored
    row = session.scalars(select(CredentialOffer)).all()[-1]
    session.refresh(row)
    assert row.used_at is not None and row.code_enc == b""
    with pytest.raises(NotFound):
        offer_document(session, subject_keys, CONFIG, ref)


@pytest.mark.parametrize(
    "form",
    [{}, {"pre-authorized_code": ""}, {"pre-authorized_code": 5}],
)
def test_the_exchange_needs_a_code(session: Session, form: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        exchange_pre_authorized_code(session, CONFIG, form)


def test_a_wrong_pin_on_an_expired_offer_is_not_counted(
    session: Session, subject_keys: SubjectKeys
) -> None:
    _, code, _ = offer(session, subject_keys)
    later = utcnow() + dt.timedelta(minutes=20)
    with pytest.raises(InvalidGrant, match="expired"):
        exchange_pre_authorized_code(
            session, CONFIG, {"pre-authorized_code": code, "tx_code": "000000"}, now=later
        )
    row = session.scalars(select(CredentialOffer)).all()[-1]
    session.refresh(row)
    assert row.failed_tx_attempts == 0


def test_nonces_expire_and_are_single_use(session: Session) -> None:
    nonce = new_nonce(session, CONFIG)
    assert consume_nonce(session, nonce)
    assert not consume_nonce(session, nonce)
    stale = new_nonce(session, CONFIG)
    assert not consume_nonce(session, stale, utcnow() + dt.timedelta(minutes=6))
    assert not consume_nonce(session, "never-issued")


def test_dead_offers_are_purged_after_a_day(session: Session, subject_keys: SubjectKeys) -> None:
    offer(session, subject_keys)
    assert purge_expired(session) == 0
    assert purge_expired(session, utcnow() + dt.timedelta(days=2)) >= 1
    assert session.scalars(select(CredentialOffer.id)).all() == []
