from __future__ import annotations

import datetime as dt
import zlib

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import IssuedCredentialNotFound, StatusUnavailable
from attestations.models import IssuedCredential
from attestations.statuslist import (
    INVALID,
    VALID,
    StatusReference,
    decode_list,
    encode_list,
    pack,
    read_status,
    record_issued,
    revoke_credential,
    status_at,
    status_list_token,
)
from audit.models import AuditEntry
from core.db import utcnow
from core.errors import InvalidInput
from keys import Keyring, SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import make_account

CONFIG = AttestationConfig(TEST_ISSUER, status_list_size=1024)
# draft-ietf-oauth-status-list §4.1, first example (bits = 1)
DRAFT_STATUSES = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
# §4.1, second example (bits = 2)
DRAFT_STATUSES_2 = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def test_bit_order_and_compression_match_the_drafts_first_example() -> None:
    array = pack(enumerate(DRAFT_STATUSES), 16)

    assert array == bytes([0xB9, 0xA3])
    assert zlib.compress(array, 9).hex() == "78dadbb918000217015d"
    assert encode_list(array) == "eNrbuRgAAhcBXQ"


def test_two_bit_statuses_match_the_drafts_second_example() -> None:
    array = pack(enumerate(DRAFT_STATUSES_2), 12, bits=2)

    assert array == bytes([0xC9, 0x44, 0xF9])
    assert encode_list(array) == "eNo76fITAAPfAgc"
    assert [status_at(array, i, 2) for i in range(12)] == DRAFT_STATUSES_2


def test_the_drafts_encoded_list_decodes_to_its_statuses() -> None:
    array = decode_list("eNrbuRgAAhcBXQ")
    assert [status_at(array, i) for i in range(16)] == DRAFT_STATUSES


@settings(deadline=None)  # a loaded CI machine, not the code, decides the time per example
@given(st.sets(st.integers(min_value=0, max_value=4095)), st.sampled_from([1, 2, 4, 8]))
def test_encode_decode_round_trip(revoked: set[int], bits: int) -> None:
    array = pack(((i, 1) for i in revoked), 4096, bits)
    decoded = decode_list(encode_list(array))
    assert decoded == array
    assert {i for i in range(4096) if status_at(decoded, i, bits)} == revoked


def test_decoding_refuses_garbage_and_bombs() -> None:
    with pytest.raises(StatusUnavailable):
        decode_list("not*base64")
    with pytest.raises(StatusUnavailable):
        decode_list(encode_list(b"\x00" * 10)[:-4])
    bomb = zlib.compress(b"\x00" * (1 << 23), 9)
    from core.tokens import b64url

    with pytest.raises(StatusUnavailable):
        decode_list(b64url(bomb))


def test_indexes_outside_the_list_are_refused() -> None:
    with pytest.raises(IndexError):
        status_at(bytes(2), 16)
    with pytest.raises(ValueError):
        pack([(16, 1)], 16)


# --- allocation, revocation and the token ----------------------------------------------------


def issue(session: Session, account_id: str) -> IssuedCredential:
    now = utcnow()
    return record_issued(
        session,
        CONFIG,
        account_id=account_id,
        type_id="age",
        issued_at=now,
        expires_at=now + dt.timedelta(days=365),
    )


def test_indexes_are_random_unique_and_not_sequential(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account = make_account(session, subject_keys)
    rows = [issue(session, account) for _ in range(40)]
    indexes = [r.status_idx for r in rows]

    assert len(set(indexes)) == len(indexes)
    assert indexes != sorted(indexes)
    assert len({r.status_list_id for r in rows}) == 1


def test_a_half_full_list_makes_way_for_a_new_one(
    session: Session, subject_keys: SubjectKeys
) -> None:
    small = AttestationConfig(TEST_ISSUER, status_list_size=8)
    account = make_account(session, subject_keys)
    now = utcnow()
    rows = [
        record_issued(
            session, small, account_id=account, type_id="age", issued_at=now, expires_at=now
        )
        for _ in range(10)
    ]
    assert len({r.status_list_id for r in rows}) >= 3
    pairs = {(r.status_list_id, r.status_idx) for r in rows}
    assert len(pairs) == 10


def test_the_status_index_is_unique_in_the_schema(
    session: Session, subject_keys: SubjectKeys
) -> None:
    from sqlalchemy.exc import IntegrityError

    row = issue(session, make_account(session, subject_keys))
    clone = IssuedCredential(
        id="f" * 32,
        account_id=row.account_id,
        type="age",
        status_list_id=row.status_list_id,
        status_idx=row.status_idx,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(clone)


def reference(row: IssuedCredential) -> StatusReference:
    return StatusReference(CONFIG.status_uri(row.status_list_id), row.status_idx)


def current_status(session: Session, keyring: Keyring, row: IssuedCredential) -> int:
    token = status_list_token(session, keyring, CONFIG, row.status_list_id)
    return read_status(token, reference(row), lambda kid: keyring.public_key(session, kid))


def test_revocation_flips_exactly_one_bit_and_is_audited_without_personal_data(
    session: Session, subject_keys: SubjectKeys, keyring: Keyring
) -> None:
    account = make_account(session, subject_keys)
    first, second = issue(session, account), issue(session, account)
    assert current_status(session, keyring, first) == VALID

    revoke_credential(session, first.id, "operator", "operator:cli")

    assert current_status(session, keyring, first) == INVALID
    assert current_status(session, keyring, second) == VALID
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.idx.desc())).first()
    assert entry is not None and entry.event == "attestation.revoked"
    assert first.id in entry.entry and account not in entry.entry


def test_revoking_twice_keeps_the_first_revocation_and_audits_once(
    session: Session, subject_keys: SubjectKeys
) -> None:
    row = issue(session, make_account(session, subject_keys))
    first = revoke_credential(session, row.id, "operator", "operator:cli")
    at = first.revoked_at
    count = len(list(session.scalars(select(AuditEntry.idx))))
    again = revoke_credential(session, row.id, "erasure", "system")

    assert again.revoked_at == at and again.revocation_reason == "operator"
    assert len(list(session.scalars(select(AuditEntry.idx)))) == count


def test_revocation_refuses_unknown_ids_and_free_text_reasons(
    session: Session, subject_keys: SubjectKeys
) -> None:
    row = issue(session, make_account(session, subject_keys))
    with pytest.raises(IssuedCredentialNotFound):
        revoke_credential(session, "0" * 32, "operator", "operator:cli")
    with pytest.raises(InvalidInput):
        revoke_credential(session, row.id, "Lives at Kade 12", "operator:cli")


def test_the_status_list_token_has_the_drafts_shape(
    session: Session, subject_keys: SubjectKeys, keyring: Keyring
) -> None:
    row = issue(session, make_account(session, subject_keys))
    token = status_list_token(session, keyring, CONFIG, row.status_list_id)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})

    assert header["typ"] == "statuslist+jwt" and header["alg"] == "ES256"
    assert claims["sub"] == CONFIG.status_uri(row.status_list_id)
    assert claims["exp"] > claims["iat"] and claims["ttl"] > 0
    assert claims["status_list"]["bits"] == 1
    assert len(decode_list(claims["status_list"]["lst"])) == 1024 // 8


def test_a_token_for_another_list_or_an_expired_token_is_refused(
    session: Session, subject_keys: SubjectKeys, keyring: Keyring
) -> None:
    account = make_account(session, subject_keys)
    row = issue(session, account)
    token = status_list_token(session, keyring, CONFIG, row.status_list_id)

    def key(kid: str) -> object:
        return keyring.public_key(session, kid)

    other = StatusReference(CONFIG.status_uri("other"), row.status_idx)
    with pytest.raises(StatusUnavailable):
        read_status(token, other, key)
    later = (utcnow() + dt.timedelta(days=2)).timestamp()
    with pytest.raises(StatusUnavailable):
        read_status(token, reference(row), key, later)
    with pytest.raises(StatusUnavailable):
        read_status(token, StatusReference(reference(row).uri, 1 << 20), key)
    forged = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(StatusUnavailable):
        read_status(forged, reference(row), key)


def test_revoke_all_revokes_only_the_residents_valid_credentials(
    session: Session, subject_keys: SubjectKeys
) -> None:
    from attestations.statuslist import issued_credentials, revoke_all_credentials

    resident, neighbour = make_account(session, subject_keys), make_account(session, subject_keys)
    mine = [issue(session, resident) for _ in range(3)]
    theirs = issue(session, neighbour)
    revoke_credential(session, mine[0].id, "operator", "operator:cli")

    revoked = revoke_all_credentials(session, resident, "erasure", "system")

    assert sorted(revoked) == sorted(r.id for r in mine[1:])
    assert all(r.revoked_at is not None for r in issued_credentials(session, resident))
    assert [r.revoked_at for r in issued_credentials(session, neighbour)] == [None]
    assert theirs.revoked_at is None
