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
from collections.abc import Iterable

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from core import rowcount, transaction_scoped, utcnow
from keys.crypto import derive_key, seal, unseal
from keys.errors import SubjectKeyDestroyed
from keys.kek import KeyEncryption, as_key_encryption
from keys.models import SubjectKey
from keys.rewrap import WrappedTable

WRAP_PURPOSE = "kluis/keys/subject-key-wrap"
# session.info key of the data keys unwrapped in the session's current transaction
_UNWRAPPED = "kluis.keys.subject.unwrapped"


# the two columns, not an ORM row, in a statement built once: read in every audited
# request about a resident
_WRAPPED_KEY = select(SubjectKey.wrapped_key, SubjectKey.kek_fingerprint).where(
    SubjectKey.subject_id == bindparam("subject")
)


class SubjectKeys:
    def __init__(self, secret: bytes | KeyEncryption) -> None:
        self._wrap = as_key_encryption(secret).for_purpose(WRAP_PURPOSE)

    @property
    def wrapped(self) -> WrappedTable:
        """Where the data keys are stored wrapped (for `kluis secret rotate`)."""
        return WrappedTable(
            "subject keys",
            SubjectKey,
            SubjectKey.subject_id,
            SubjectKey.wrapped_key,
            SubjectKey.kek_fingerprint,
            self._wrap,
        )

    def create(self, session: Session, subject_id: str) -> None:
        """Give a new resident their data key (idempotent)."""
        if session.get(SubjectKey, subject_id) is None:
            wrapped, fingerprint = self._wrap.seal(os.urandom(32), subject_id.encode())
            session.add(
                SubjectKey(
                    subject_id=subject_id,
                    wrapped_key=wrapped,
                    kek_fingerprint=fingerprint,
                    created_at=utcnow(),
                )
            )
            session.flush()

    def _unwrapped(self, session: Session) -> dict[str, bytes]:
        """Data keys this object unwrapped in the session's current transaction.

        One request reads a resident's key for each field and for the audit reference; the ORM
        holds rows weakly, so each `session.get` went back to the database and unwrapped again.
        The keys are kept for one transaction only, never in the process: `destroy` drops
        them, and a key destroyed by another transaction is not seen after this one ends, so
        crypto-shredding works as before.
        """
        keys: dict[str, bytes] = transaction_scoped(session, _UNWRAPPED).setdefault(self, {})
        return keys

    def _data_key(self, session: Session, subject_id: str) -> bytes:
        key = self._unwrapped(session).get(subject_id)
        if key is not None:
            return key
        # on the session's connection: a plain read (`create` flushes the key it adds)
        row = session.connection().execute(_WRAPPED_KEY, {"subject": subject_id}).first()
        if row is None:
            raise SubjectKeyDestroyed(f"no data key for subject {subject_id}")
        key = self._wrap.unseal(row.wrapped_key, subject_id.encode(), row.kek_fingerprint)
        self._unwrapped(session)[subject_id] = key  # the transaction the get began, if it did
        return key

    def adopt(
        self, session: Session, subject_id: str, wrapped: bytes | None, kek: str | None
    ) -> None:
        """A resident's wrapped data key as read by the caller with another statement of the
        current transaction (an outer join on `models.SubjectKey`, one round trip less):
        unwrapped and held for this transaction as `_data_key` would. No key (a resident
        whose key was destroyed) is left to `_data_key`, which refuses it."""
        if wrapped is not None:
            key = self._wrap.unseal(wrapped, subject_id.encode(), kek)
            self._unwrapped(session)[subject_id] = key

    def encrypt(self, session: Session, subject_id: str, field: str, value: str) -> bytes:
        key = self._data_key(session, subject_id)
        return seal(key, value.encode("utf-8"), f"{subject_id}\x00{field}".encode())

    def decrypt(self, session: Session, subject_id: str, field: str, blob: bytes) -> str:
        key = self._data_key(session, subject_id)
        return unseal(key, blob, f"{subject_id}\x00{field}".encode()).decode("utf-8")

    def reference(self, session: Session, subject_id: str, purpose: str = "audit") -> str:
        """A stable opaque reference to the resident for one purpose (e.g. the audit log).
        Only computable while the data key exists."""
        return _reference(self._data_key(session, subject_id), purpose)

    def references(
        self, session: Session, subject_ids: Iterable[str], purpose: str = "audit"
    ) -> dict[str, str]:
        """`reference` of many residents, their keys read a thousand at a time (a cascade
        writes audit entries about thousands). Residents without a data key are left out."""
        ordered = sorted(set(subject_ids))
        found: dict[str, str] = {}
        for start in range(0, len(ordered), 1000):
            rows = session.execute(
                select(
                    SubjectKey.subject_id, SubjectKey.wrapped_key, SubjectKey.kek_fingerprint
                ).where(SubjectKey.subject_id.in_(ordered[start : start + 1000]))
            )
            for subject_id, wrapped, fingerprint in rows:
                key = self._wrap.unseal(wrapped, subject_id.encode(), fingerprint)
                found[subject_id] = _reference(key, purpose)
        return found

    def destroy(self, session: Session, subject_id: str) -> bool:
        """Crypto-shred the resident's data key. Returns whether a key existed."""
        session.info.pop(_UNWRAPPED, None)  # whichever SubjectKeys unwrapped it
        result = session.execute(delete(SubjectKey).where(SubjectKey.subject_id == subject_id))
        return bool(rowcount(result))


def _reference(data_key: bytes, purpose: str) -> str:
    ref_key = derive_key(data_key, f"kluis/subject-ref/{purpose}")
    return hmac.new(ref_key, b"subject", hashlib.sha256).hexdigest()
