"""Login by QR links a credential to an account through its status list entry. Only a
credential Kluis signed may do that: an issuer the operator trusts could otherwise name the
status entry of a victim's Kluis credential and log in as them. And no other issuer can be
trusted for Kluis's own credential types."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from adapters.fetch import HttpFetcher
from attestations.config import AttestationConfig
from attestations.holders import account_of_credential
from attestations.statuslist import StatusReference, record_issued
from attestations.verifier.cli import verifier_cli
from attestations.verifier.config import VerifierConfig
from attestations.verifier.errors import PresentationRejected
from attestations.verifier.login import check_login_credentials
from attestations.verifier.trust import InvalidTrustedIssuer, add_trusted_issuer
from keys import SubjectKeys
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.attestations import make_account

OTHER = "https://vereniging.example"
NO_FETCH = HttpFetcher(
    allow_http=False, transport=httpx.MockTransport(lambda r: httpx.Response(500))
)
JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                  "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}  # fmt: skip


def victim_entry(session: Session, subject_keys: SubjectKeys) -> tuple[str, dict[str, Any]]:
    """A resident's Kluis credential, by its status list entry (which is public)."""
    account_id = make_account(session, subject_keys)
    now = dt.datetime.now(dt.UTC)
    row = record_issued(
        session,
        AttestationConfig(TEST_ISSUER),
        account_id=account_id,
        type_id="real_person",
        issued_at=now,
        expires_at=now + dt.timedelta(days=30),
    )
    session.commit()
    uri = AttestationConfig(TEST_ISSUER).status_uri(row.status_list_id)
    return account_id, {"uri": uri, "idx": row.status_idx}


def test_a_credential_of_another_issuer_naming_a_victims_status_entry_logs_no_one_in(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account_id, status = victim_entry(session, subject_keys)
    config = VerifierConfig(TEST_ISSUER)
    vct = AttestationConfig(TEST_ISSUER).vct("real_person")

    with pytest.raises(PresentationRejected):
        check_login_credentials(session, config, [{"iss": OTHER, "vct": vct, "status": status}])
    ref = StatusReference.from_claims({"status": {"status_list": status}})
    attest = AttestationConfig(TEST_ISSUER)
    assert account_of_credential(session, attest, ref, iss=OTHER) is None
    assert account_of_credential(session, attest, ref, iss=None) is None
    # Kluis's own credential with that entry still logs its holder in
    check_login_credentials(session, config, [{"iss": TEST_ISSUER, "vct": vct, "status": status}])
    assert account_of_credential(session, attest, ref, iss=TEST_ISSUER) == account_id


def test_no_issuer_can_be_trusted_for_kluis_own_credential_types(
    session: Session, runtime: Runtime
) -> None:
    own = AttestationConfig(TEST_ISSUER).vct("real_person")
    with pytest.raises(InvalidTrustedIssuer, match="own credential types"):
        add_trusted_issuer(
            session,
            None,
            OTHER,
            [own],
            "operator:cli",
            jwks=JWKS,
            own_issuer=TEST_ISSUER,  # type: ignore[arg-type]
        )
    result = CliRunner().invoke(
        verifier_cli, ["issuers", "add", "--iss", OTHER, "--vct", own], obj=runtime
    )
    assert result.exit_code != 0 and "own credential types" in result.output
