from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.db import Database, make_engine
from keys import DecryptionFailed, SubjectKeyDestroyed, SubjectKeys
from service import migrate

EMAIL = "klaas.vaessen@example.org"


def test_round_trip_and_binding_to_subject_and_field(
    session: Session, subject_keys: SubjectKeys
) -> None:
    subject_keys.create(session, "subj-1")
    subject_keys.create(session, "subj-2")
    blob = subject_keys.encrypt(session, "subj-1", "email", EMAIL)
    assert EMAIL.encode() not in blob
    assert subject_keys.decrypt(session, "subj-1", "email", blob) == EMAIL
    with pytest.raises(DecryptionFailed):
        subject_keys.decrypt(session, "subj-1", "name", blob)
    with pytest.raises(DecryptionFailed):
        subject_keys.decrypt(session, "subj-2", "email", blob)


def test_shredded_key_makes_data_and_references_unreadable(
    session: Session, subject_keys: SubjectKeys
) -> None:
    subject_keys.create(session, "subj-3")
    blob = subject_keys.encrypt(session, "subj-3", "email", EMAIL)
    ref = subject_keys.reference(session, "subj-3")
    assert len(ref) == 64 and ref == subject_keys.reference(session, "subj-3")
    assert subject_keys.destroy(session, "subj-3") is True
    with pytest.raises(SubjectKeyDestroyed):
        subject_keys.decrypt(session, "subj-3", "email", blob)
    with pytest.raises(SubjectKeyDestroyed):
        subject_keys.reference(session, "subj-3")
    # Re-creating a key for the same id does not bring the data back.
    subject_keys.create(session, "subj-3")
    with pytest.raises(DecryptionFailed):
        subject_keys.decrypt(session, "subj-3", "email", blob)
    assert subject_keys.reference(session, "subj-3") != ref


def test_references_differ_per_subject_and_purpose(
    session: Session, subject_keys: SubjectKeys
) -> None:
    subject_keys.create(session, "a")
    subject_keys.create(session, "b")
    refs = {
        subject_keys.reference(session, "a"),
        subject_keys.reference(session, "b"),
        subject_keys.reference(session, "a", purpose="other"),
    }
    assert len(refs) == 3


def test_plaintext_never_reaches_the_database_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pii.sqlite3'}"
    migrate.upgrade(url)
    keys = SubjectKeys(b"s" * 48)
    database = Database(make_engine(url))
    with database.transaction() as session:
        keys.create(session, "subj")
        blob = keys.encrypt(session, "subj", "email", EMAIL)
    with database.transaction() as session:
        assert keys.decrypt(session, "subj", "email", blob) == EMAIL
        keys.destroy(session, "subj")
    database.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("pii.sqlite3*"))
    assert EMAIL.encode() not in stored
