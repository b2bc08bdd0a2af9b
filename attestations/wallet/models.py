"""Tables of the built-in wallet: credentials Kluis holds for a resident, and the pairing of a
verification session with the resident's browser.

A held credential's SD-JWT and its holder private key are encrypted under the resident's own
data key (`keys.SubjectKeys`), so erasure (which destroys that key) shreds them, and the rows go
with the account (ON DELETE CASCADE).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


class WalletCredential(Base):
    __tablename__ = "wallet_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    issued_credential_id: Mapped[str] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), unique=True
    )
    type: Mapped[str] = mapped_column(String(32))
    sd_jwt_enc: Mapped[bytes] = mapped_column(LargeBinary)
    holder_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WalletPairing(Base):
    """The built-in wallet opened a verification session for one resident. The platform shows
    `code` on its own screen (read from the status API); the resident types it on the phone.
    Random and short-lived like the session itself, so stored as it is."""

    __tablename__ = "wallet_pairings"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("verifier_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(8))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    paired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
