"""Wrap keys with fingerprints (keys/kek.py) and re-wrapping under a new key-encryption secret
(keys/rewrap.py), on the test database (SQLite or PostgreSQL), each test rolled back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db import Database
from keys import (
    DecryptionFailed,
    KeyEncryption,
    Keyring,
    SubjectKeyDestroyed,
    SubjectKeys,
    UnknownKeyEncryptionKey,
    UnwrappableKeys,
)
from keys.crypto import derive_key, seal
from keys.kek import FINGERPRINT_LENGTH, fingerprint
from keys.models import SigningKey, SubjectKey
from keys.rewrap import Batch, check_wrapped_keys, rotate_key_encryption, usage
from keys.subject import WRAP_PURPOSE as SUBJECT_WRAP
from tests.conftest import TEST_SECRET

ROOT = TEST_SECRET.encode()
OLD = b"old-key-encryption-secret-for-tests-only-0000000000"
NEW = b"new-key-encryption-secret-for-tests-only-1111111111"
HOUR = dt.timedelta(hours=1)


class Crash(Exception):
    """Stands for the process dying between two batches."""


def test_fingerprint_is_short_stable_and_names_the_key_not_its_bytes() -> None:
    key = derive_key(OLD, SUBJECT_WRAP)
    fp = fingerprint(key)
    assert len(fp) == FINGERPRINT_LENGTH and int(fp, 16) >= 0
    assert fp == fingerprint(derive_key(OLD, SUBJECT_WRAP))
    assert fp not in key.hex()
    assert fp != fingerprint(derive_key(NEW, SUBJECT_WRAP))
    assert fp != fingerprint(derive_key(OLD, "kluis/keys/signing-key-wrap"))


def test_new_wraps_use_the_current_key_and_previous_ones_still_unwrap() -> None:
    before = KeyEncryption(OLD, root=ROOT).for_purpose(SUBJECT_WRAP)
    blob, old_fp = before.seal(b"data key", b"subj")
    after = KeyEncryption(NEW, previous=[OLD], root=ROOT).for_purpose(SUBJECT_WRAP)
    assert after.unseal(blob, b"subj", old_fp) == b"data key"
    assert after.name_of(old_fp) == "previous-1"
    new_blob, new_fp = after.seal(b"data key", b"subj")
    assert new_fp == after.current.fingerprint != old_fp
    assert after.unseal(new_blob, b"subj", new_fp) == b"data key"
    with pytest.raises(DecryptionFailed):  # still bound to its owner
        after.unseal(new_blob, b"other", new_fp)


def test_a_key_under_a_secret_no_longer_configured_is_refused_by_fingerprint_only() -> None:
    blob, old_fp = KeyEncryption(OLD, root=ROOT).for_purpose(SUBJECT_WRAP).seal(b"k", b"s")
    forgotten = KeyEncryption(NEW, root=ROOT).for_purpose(SUBJECT_WRAP)
    with pytest.raises(UnknownKeyEncryptionKey) as refused:
        forgotten.unseal(blob, b"s", old_fp)
    assert refused.value.fingerprint == old_fp
    message = str(refused.value)
    for secret in (OLD, NEW, ROOT):
        assert secret.decode() not in message
        assert derive_key(secret, SUBJECT_WRAP).hex()[:8] not in message


def test_without_a_separate_secret_the_wrap_key_is_the_roots_as_before() -> None:
    # What Kluis stored before fingerprints existed: sealed under the root's wrap key, NULL.
    legacy_blob = seal(derive_key(ROOT, SUBJECT_WRAP), b"k", b"s")
    plain = KeyEncryption(ROOT).for_purpose(SUBJECT_WRAP)
    assert plain.current.key == derive_key(ROOT, SUBJECT_WRAP)
    assert plain.unseal(legacy_blob, b"s", None) == b"k"
    assert not KeyEncryption(ROOT).separate
    # With a separate secret the root is still accepted for those rows, never used to wrap.
    split = KeyEncryption(NEW, root=ROOT).for_purpose(SUBJECT_WRAP)
    assert split.unseal(legacy_blob, b"s", None) == b"k"
    assert split.name_of(None) == "root"
    assert split.seal(b"k", b"s")[1] != plain.current.fingerprint


def _subjects(session: Session, keys: SubjectKeys, count: int, prefix: str) -> list[str]:
    ids = [f"{prefix}-{i:03d}" for i in range(count)]
    for subject_id in ids:
        keys.create(session, subject_id)
    session.flush()
    return ids


def test_rotation_re_wraps_signing_and_subject_keys_and_data_stays_readable(
    db: Database,
) -> None:
    old = KeyEncryption(OLD, root=ROOT)
    new = KeyEncryption(NEW, previous=[OLD], root=ROOT)
    old_subjects, old_ring = SubjectKeys(old), Keyring(old, retention=HOUR)
    with db.transaction() as session:
        ids = _subjects(session, old_subjects, 3, "rot")
        blob = old_subjects.encrypt(session, ids[0], "email", "a@example.org")
        kid = old_ring.create_key(session, "ES256").kid
    new_subjects, new_ring = SubjectKeys(new), Keyring(new, retention=HOUR)
    tables = [new_ring.wrapped, new_subjects.wrapped]
    with db.transaction() as session:  # before the rotation: read through the previous secret
        assert new_subjects.decrypt(session, ids[0], "email", blob) == "a@example.org"
        assert usage(session, new_subjects.wrapped)["previous-1"] == 3
    totals = rotate_key_encryption(db, tables, batch_size=2)
    assert totals["subject keys"] >= 3 and totals["signing keys"] >= 1
    with db.transaction() as session:
        assert set(usage(session, new_subjects.wrapped)) == {"current"}
        assert set(usage(session, new_ring.wrapped)) == {"current"}
        assert new_subjects.decrypt(session, ids[0], "email", blob) == "a@example.org"
        assert new_ring.sign_jwt(session, {"x": 1}, "ES256")
    # Nothing depends on the old secret any more: a service without it reads everything.
    without_old = SubjectKeys(KeyEncryption(NEW, root=ROOT))
    fresh_ring = Keyring(KeyEncryption(NEW, root=ROOT), retention=HOUR)
    with db.transaction() as session:
        assert without_old.decrypt(session, ids[0], "email", blob) == "a@example.org"
        assert fresh_ring._private_key(session, kid)
    assert rotate_key_encryption(db, tables) == {"signing keys": 0, "subject keys": 0}


def test_a_crash_between_batches_leaves_a_working_mix_and_a_rerun_finishes(
    db: Database,
) -> None:
    old = KeyEncryption(OLD, root=ROOT)
    new = KeyEncryption(NEW, previous=[OLD], root=ROOT)
    with db.transaction() as session:
        ids = _subjects(session, SubjectKeys(old), 7, "crash")
        refs = {i: SubjectKeys(old).reference(session, i) for i in ids}
    subject_keys = SubjectKeys(new)
    table = subject_keys.wrapped
    with db.transaction() as session:
        pending = sum(n for name, n in usage(session, table).items() if name != "current")
    batches: list[Batch] = []

    def die_after_two(batch: Batch) -> None:
        batches.append(batch)
        if len(batches) == 2:
            raise Crash

    with pytest.raises(Crash):
        rotate_key_encryption(db, [table], batch_size=3, after_commit=die_after_two)
    with db.transaction() as session:
        counts = usage(session, table)
        assert counts["current"] == 6 and counts["previous-1"] == pending - 6
        # Old and new rows alike still serve: the references the audit log uses are unchanged.
        assert {i: subject_keys.reference(session, i) for i in ids} == refs
    rerun = rotate_key_encryption(db, [table], batch_size=3)
    assert rerun == {"subject keys": pending - 6}
    with db.transaction() as session:
        assert set(usage(session, table)) == {"current"}
        assert {i: subject_keys.reference(session, i) for i in ids} == refs


def test_erased_subjects_stay_erased_through_a_rotation(db: Database) -> None:
    old, new = KeyEncryption(OLD, root=ROOT), KeyEncryption(NEW, previous=[OLD], root=ROOT)
    with db.transaction() as session:
        kept, erased = _subjects(session, SubjectKeys(old), 2, "erase")
        blob = SubjectKeys(old).encrypt(session, erased, "email", "weg@example.org")
        assert SubjectKeys(old).destroy(session, erased)
    rotate_key_encryption(db, [SubjectKeys(new).wrapped])
    with db.transaction() as session:
        assert session.get(SubjectKey, erased) is None
        assert session.get(SubjectKey, kept) is not None
        with pytest.raises(SubjectKeyDestroyed):
            SubjectKeys(new).decrypt(session, erased, "email", blob)


def test_a_row_erased_mid_batch_is_not_written_back(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keys.rewrap import rewrap_batch

    old, new = KeyEncryption(OLD, root=ROOT), KeyEncryption(NEW, previous=[OLD], root=ROOT)
    (subject,) = _subjects(session, SubjectKeys(old), 1, "race")
    table = SubjectKeys(new).wrapped
    original = table.wrap.unseal

    def erase_while_unwrapping(blob: bytes, associated: bytes, fp: str | None) -> bytes:
        plaintext = original(blob, associated, fp)
        SubjectKeys(new).destroy(session, subject)  # an erasure commits in between
        return plaintext

    monkeypatch.setattr(table.wrap, "unseal", erase_while_unwrapping)
    batch = rewrap_batch(session, table, "race-", 10)
    assert batch.selected == 1 and batch.rewrapped == 0
    assert session.get(SubjectKey, subject) is None


def test_keys_under_an_unconfigured_secret_are_found_before_any_use(session: Session) -> None:
    stranger = b"a-secret-this-deployment-never-configured-22222222"
    SubjectKeys(KeyEncryption(stranger, root=ROOT)).create(session, "orphan")
    configured = SubjectKeys(KeyEncryption(NEW, previous=[OLD], root=ROOT))
    with pytest.raises(UnwrappableKeys) as refused:
        check_wrapped_keys(session, [configured.wrapped])
    orphan_fp = session.scalar(
        select(SubjectKey.kek_fingerprint).where(SubjectKey.subject_id == "orphan")
    )
    assert refused.value.found == [("subject keys", orphan_fp, 1)]
    assert "1 subject keys under key" in str(refused.value)
    assert stranger.decode() not in str(refused.value)
    assert usage(session, configured.wrapped)["unknown"] == 1


def test_pruned_signing_keys_depend_on_no_secret(session: Session) -> None:
    ring = Keyring(KeyEncryption(OLD, root=ROOT), retention=HOUR)
    row = ring.create_key(session, "ES256")
    before = usage(session, ring.wrapped)["current"]
    session.execute(
        update(SigningKey).where(SigningKey.kid == row.kid).values(private_key_enc=None)
    )
    assert usage(session, ring.wrapped)["current"] == before - 1


def test_rows_from_before_fingerprints_count_as_the_roots(db: Database) -> None:
    root_only = SubjectKeys(ROOT)
    with db.transaction() as session:
        root_only.create(session, "legacy-1")
        session.execute(
            update(SubjectKey)
            .where(SubjectKey.subject_id == "legacy-1")
            .values(kek_fingerprint=None)
        )
    # Without a separate secret they are under the current key already: nothing to do.
    with db.transaction() as session:
        assert usage(session, root_only.wrapped)["current"] >= 1
        reference = root_only.reference(session, "legacy-1")
    assert rotate_key_encryption(db, [root_only.wrapped]) == {"subject keys": 0}
    # With one, they depend on the root and are moved.
    split = SubjectKeys(KeyEncryption(NEW, root=ROOT))
    with db.transaction() as session:
        assert usage(session, split.wrapped)["root"] >= 1
    assert rotate_key_encryption(db, [split.wrapped])["subject keys"] >= 1
    with db.transaction() as session:
        assert set(usage(session, split.wrapped)) == {"current"}
        assert split.reference(session, "legacy-1") == reference
