"""Per-resident data keys (crypto-shredding).

Each resident gets a random 256-bit data key, stored wrapped (AES-GCM) under a service key.
Their personal fields are encrypted with it (associated data binds subject and field), and the
opaque references the audit log uses are derived from it. Destroying the key makes both the
ciphertexts and the references permanently unlinkable to the person, including in backups taken
after the key is gone.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.db import rowcount, utcnow
from keys.crypto import derive_key, seal, unseal
from keys.errors import SubjectKeyDestroyed
from keys.models import SubjectKey


class SubjectKeys:
    def __init__(self, secret: bytes) -> None:
        self._wrap_key = derive_key(secret, "kluis/keys/subject-key-wrap")

    def create(self, session: Session, subject_id: str) -> None:
        """Give a new resident their data key (idempotent)."""
        if session.get(SubjectKey, subject_id) is None:
            session.add(
                SubjectKey(
                    subject_id=subject_id,
                    wrapped_key=seal(self._wrap_key, os.urandom(32), subject_id.encode()),
                    created_at=utcnow(),
                )
            )
            session.flush()

    def _data_key(self, session: Session, subject_id: str) -> bytes:
        row = session.get(SubjectKey, subject_id)
        if row is None:
            raise SubjectKeyDestroyed(f"no data key for subject {subject_id}")
        return unseal(self._wrap_key, row.wrapped_key, subject_id.encode())

    def encrypt(self, session: Session, subject_id: str, field: str, value: str) -> bytes:
        key = self._data_key(session, subject_id)
        return seal(key, value.encode("utf-8"), f"{subject_id}\x00{field}".encode())

    def decrypt(self, session: Session, subject_id: str, field: str, blob: bytes) -> str:
        key = self._data_key(session, subject_id)
        return unseal(key, blob, f"{subject_id}\x00{field}".encode()).decode("utf-8")

    def reference(self, session: Session, subject_id: str, purpose: str = "audit") -> str:
        """A stable opaque reference to the resident for one purpose (e.g. the audit log).
        Only computable while the data key exists."""
        ref_key = derive_key(self._data_key(session, subject_id), f"kluis/subject-ref/{purpose}")
        return hmac.new(ref_key, b"subject", hashlib.sha256).hexdigest()

    def destroy(self, session: Session, subject_id: str) -> bool:
        """Crypto-shred the resident's data key. Returns whether a key existed."""
        result = session.execute(delete(SubjectKey).where(SubjectKey.subject_id == subject_id))
        return bool(rowcount(result))
