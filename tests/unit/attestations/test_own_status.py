"""Reading the status of Kluis's own credentials straight from its lists (`own_status`): the
same value the served Status List Token carries, and `StatusUnavailable` only for an unknown
list or an index outside it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import CredentialRevoked, StatusUnavailable
from attestations.models import IssuedCredential
from attestations.own_status import own_status
from attestations.statuslist import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusReference,
    read_status,
    record_issued,
    revoke_credential,
    status_list_token,
)
from attestations.vc import own_credential_status, require_valid
from core.db import utcnow
from keys import Keyring, SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import make_account

CONFIG = AttestationConfig(TEST_ISSUER, status_list_size=64)


def _issue(session: Session, account: str) -> IssuedCredential:
    now = utcnow()
    return record_issued(
        session, CONFIG, account_id=account, type_id="age", issued_at=now, expires_at=now
    )


@pytest.fixture
def two(session: Session, subject_keys: SubjectKeys) -> tuple[IssuedCredential, IssuedCredential]:
    account = make_account(session, subject_keys)
    first, second = _issue(session, account), _issue(session, account)
    assert first.status_list_id == second.status_list_id
    return first, second


def test_valid_and_revoked_are_read_from_the_list(
    session: Session, two: tuple[IssuedCredential, IssuedCredential]
) -> None:
    first, second = two
    assert own_status(session, first.status_list_id, first.status_idx) == VALID

    revoke_credential(session, first.id, "operator", "operator:test")

    assert own_status(session, first.status_list_id, first.status_idx) == INVALID
    assert own_status(session, second.status_list_id, second.status_idx) == VALID


def test_the_bit_read_equals_the_bit_the_status_endpoint_serves(
    session: Session, keyring: Keyring, two: tuple[IssuedCredential, IssuedCredential]
) -> None:
    first, second = two
    revoke_credential(session, second.id, "operator", "operator:test")
    token = status_list_token(session, keyring, CONFIG, first.status_list_id)
    key = lambda kid: keyring.public_key(session, kid)  # noqa: E731
    for row in (first, second):
        ref = StatusReference(CONFIG.status_uri(row.status_list_id), row.status_idx)
        served = read_status(token, ref, key)
        assert own_status(session, row.status_list_id, row.status_idx) == served


def test_an_unknown_list_or_an_index_outside_it_gives_no_statement(
    session: Session, two: tuple[IssuedCredential, IssuedCredential]
) -> None:
    first, _ = two
    with pytest.raises(StatusUnavailable, match="not found"):
        own_status(session, "no-such-list", 0)
    for idx in (CONFIG.status_list_size, -1):
        with pytest.raises(StatusUnavailable, match="outside"):
            own_status(session, first.status_list_id, idx)


def test_only_kluis_own_list_uris_are_read(
    session: Session, two: tuple[IssuedCredential, IssuedCredential]
) -> None:
    first, _ = two
    ours = StatusReference(CONFIG.status_uri(first.status_list_id), first.status_idx)
    assert own_credential_status(session, CONFIG, ours) == VALID
    for uri in (
        f"https://elsewhere.example/status/{first.status_list_id}",
        CONFIG.status_uri(f"{first.status_list_id}/x"),
    ):
        with pytest.raises(StatusUnavailable, match="another issuer"):
            own_credential_status(session, CONFIG, StatusReference(uri, first.status_idx))


@pytest.mark.parametrize("status", [INVALID, SUSPENDED, 0x03])
def test_every_status_but_valid_refuses(status: int) -> None:
    require_valid(VALID)
    with pytest.raises(CredentialRevoked):
        require_valid(status)
