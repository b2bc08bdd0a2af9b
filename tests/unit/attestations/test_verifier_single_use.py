"""A verification session accepts one presentation, even when several responses race
(committed data, one connection per thread; run on PostgreSQL in CI)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.sdjwt import HeldSdJwt
from attestations.statuslist import StatusReference, record_issued
from attestations.types import TYPES, issuance_date
from attestations.vc import issue_vc
from attestations.verifier.config import VerifierConfig
from attestations.verifier.errors import PresentationRejected
from attestations.verifier.models import VerifierSession
from attestations.verifier.response import receive_response
from attestations.verifier.session import create_session
from core.db import Database, utcnow
from identity.oidc.clients import ClientSpec, create_client
from keys import Keyring, SubjectKeys
from tests.conftest import TEST_ISSUER, TEST_SECRET
from tests.support.attestations import POSTCODE_INPUT, holder_jwk, holder_key, make_account
from tests.support.concurrency import race
from tests.unit.attestations.test_single_use import THREADS

CONFIG = VerifierConfig(TEST_ISSUER, pseudonym_key=b"p" * 32)
ATTESTATIONS = AttestationConfig(TEST_ISSUER)
QUERY = {
    "credentials": [
        {
            "id": "residence",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [ATTESTATIONS.vct("postcode")]},
            "claims": [{"path": ["postcode_area"]}],
        }
    ]
}


@pytest.fixture
def database(fresh_database: str) -> Iterator[Database]:
    db = Database.from_url(fresh_database)
    yield db
    db.dispose()


def credential(session: Session, keyring: Keyring, subject_keys: SubjectKeys) -> tuple[str, object]:
    account = make_account(session, subject_keys)
    now = utcnow()
    ctype = TYPES["postcode"]
    row = record_issued(
        session,
        ATTESTATIONS,
        account_id=account,
        type_id="postcode",
        issued_at=now,
        expires_at=now + ctype.validity,
    )
    key = holder_key()
    issued = issue_vc(
        session,
        keyring,
        ATTESTATIONS,
        ctype,
        ctype.claims_from(POSTCODE_INPUT, issuance_date(now)),
        holder_jwk=holder_jwk(key),
        status=StatusReference(ATTESTATIONS.status_uri(row.status_list_id), row.status_idx),
        now=now,
    )
    return issued, key


def test_concurrent_responses_to_one_session_finish_it_once(
    database: Database, subject_keys: SubjectKeys
) -> None:
    keyring = Keyring(TEST_SECRET.encode(), retention=dt.timedelta(days=400))
    with database.transaction() as session:
        keyring.ensure_keys(session, ["ES256"])
        client, _ = create_client(
            session, ClientSpec(name="Buurt", redirect_uris=["https://buurt.example.nl/cb"])
        )
        issued, key = credential(session, keyring, subject_keys)
        row = create_session(
            session, CONFIG, client.client_id, {"dcql_query": QUERY, "purpose": "Stemmen"}
        )
        session_id, state, nonce = row.id, row.state, row.nonce
    presentation = HeldSdJwt.parse(issued).present(
        [("postcode_area",)], holder_key=key, nonce=nonce, audience=CONFIG.client_id
    )
    form = {"state": state, "vp_token": json.dumps({"residence": [presentation]})}

    def respond() -> bool:
        with database.session() as session:
            receive_response(session, keyring, CONFIG, form)
            session.commit()
            return True

    results, errors = race(respond, THREADS)

    assert results == [True], errors
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, PresentationRejected) for e in errors), errors
    with database.transaction() as session:
        finished = session.get(VerifierSession, session_id)
        assert finished is not None and finished.status == "done" and finished.result
