from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.db import Database, make_engine
from keys import DecryptionFailed, SubjectKeyDestroyed, SubjectKeys
from service import migrate
from tests.conftest import TEST_SECRET

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


@contextlib.contextmanager
def statements_on(session: Session, table: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(conn: object, cursor: object, statement: str, *args: object) -> None:
        if table in statement:
            seen.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def test_data_key_is_read_and_unwrapped_once_per_transaction(
    session: Session, subject_keys: SubjectKeys
) -> None:
    subject_keys.create(session, "subj-once")
    session.commit()
    with statements_on(session, "FROM subject_keys") as seen:
        blob = subject_keys.encrypt(session, "subj-once", "email", EMAIL)
        assert subject_keys.decrypt(session, "subj-once", "email", blob) == EMAIL
        subject_keys.reference(session, "subj-once")
        assert len(seen) == 1  # was one read (and one unwrap) per call
        session.commit()
        subject_keys.reference(session, "subj-once")
        assert len(seen) == 2  # a new transaction reads the key again


def test_destroy_by_any_keys_object_shreds_within_the_transaction(
    session: Session, subject_keys: SubjectKeys
) -> None:
    subject_keys.create(session, "subj-shred")
    blob = subject_keys.encrypt(session, "subj-shred", "email", EMAIL)
    assert subject_keys.decrypt(session, "subj-shred", "email", blob) == EMAIL  # unwrapped
    other = SubjectKeys(TEST_SECRET.encode())  # e.g. the erasure's, not the accounts' object
    assert other.destroy(session, "subj-shred") is True
    with pytest.raises(SubjectKeyDestroyed):
        subject_keys.decrypt(session, "subj-shred", "email", blob)
    with pytest.raises(SubjectKeyDestroyed):
        subject_keys.reference(session, "subj-shred")


def test_unwrapped_key_is_not_lent_to_a_keys_object_with_another_secret(
    session: Session, subject_keys: SubjectKeys
) -> None:
    subject_keys.create(session, "subj-secret")
    subject_keys.reference(session, "subj-secret")
    with pytest.raises(DecryptionFailed):
        SubjectKeys(b"another secret, another wrap key".ljust(48, b"!")).reference(
            session, "subj-secret"
        )


def test_key_destroyed_by_another_transaction_is_gone_in_the_next(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shred.sqlite3'}"
    migrate.upgrade(url)
    keys = SubjectKeys(b"s" * 48)
    database = Database(make_engine(url))
    with database.transaction() as session:
        keys.create(session, "subj")
        blob = keys.encrypt(session, "subj", "email", EMAIL)
    with database.session() as long_lived:
        assert keys.decrypt(long_lived, "subj", "email", blob) == EMAIL
        long_lived.commit()
        with database.transaction() as erasure:
            keys.destroy(erasure, "subj")
        with pytest.raises(SubjectKeyDestroyed):
            keys.decrypt(long_lived, "subj", "email", blob)
    database.dispose()
