"""Tables of the keys package."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


class SigningKey(Base):
    """An asymmetric signing key. Its lifecycle state (published → active → retired → removed)
    is derived from `activates_at` and the successor's `activates_at`, never stored, so every
    app process agrees on it without coordination."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16), index=True)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    # AES-GCM ciphertext of the PKCS#8 private key; NULL once the key is pruned.
    private_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Fingerprint of the wrap key that sealed `private_key_enc` (keys.kek); NULL: sealed under
    # the root secret before fingerprints were recorded.
    kek_fingerprint: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    activates_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SubjectKey(Base):
    """A resident's own data key, wrapped under the service key. Deleting the row is
    crypto-shredding: everything encrypted under it becomes unreadable."""

    __tablename__ = "subject_keys"

    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    # As SigningKey.kek_fingerprint.
    kek_fingerprint: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
