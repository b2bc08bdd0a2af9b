"""Confirmation requests: "Ask a neighbour to confirm me".

The vouchee's phone shows a QR code holding an unguessable token, and a 4-digit check code
that the voucher's phone shows too once it has found the request (the server derives it from
the request, so the two people see at once whether they look at the same request). Without a
smartphone, a desk or community host opens the request for a desk account, and the voucher
types the short code instead. A request lives `VouchingConfig.request_ttl` and is answered
once: the confirmation or the refusal takes it with one conditional UPDATE.

Only hashes are stored: SHA-256 of the token, and an HMAC of the short code (its 39 bits are
too few to leave unkeyed in a copy of the database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from attestations.letters.codes import ALPHABET
from attestations.vouching.config import VouchingConfig
from attestations.vouching.errors import RequestGone
from attestations.vouching.models import ConfirmationRequest
from audit import record
from core import new_token, rowcount, token_hash, utcnow
from keys import SubjectKeys

SHORT_CODE_LENGTH = 8  # 30 symbols: 39 bits, for 10 minutes, typed under an attempt limit
CHECK_DIGITS = 4
_SEPARATORS = str.maketrans("", "", " -\t")


@dataclass(frozen=True)
class OpenedRequest:
    id: str
    token: str  # what the QR code carries; never stored
    short_code: str  # to type instead; never stored
    check_code: str
    expires_at: dt.datetime


def check_code(config: VouchingConfig, request_id: str) -> str:
    """The 4 digits both phones show for one request: keyed on the request, so the server can
    show them to the voucher whether they scanned the QR code or typed the short code."""
    digest = hmac.new(config.code_key, b"check\x00" + request_id.encode(), hashlib.sha256)
    return f"{int.from_bytes(digest.digest()[:4], 'big') % 10**CHECK_DIGITS:0{CHECK_DIGITS}d}"


def normalize_short_code(typed: str) -> str | None:
    code = typed.translate(_SEPARATORS).upper()
    if len(code) != SHORT_CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def open_request(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    vouchee_id: str,
    opened_by: str = "resident",
    now: dt.datetime | None = None,
) -> OpenedRequest:
    """A new request of `vouchee_id`; `opened_by` is `resident` or a desk actor. The caller
    commits."""
    moment = now or utcnow()
    token = new_token()
    short_code = "".join(secrets.choice(ALPHABET) for _ in range(SHORT_CODE_LENGTH))
    row = ConfirmationRequest(
        id=uuid.uuid4().hex,
        vouchee_id=vouchee_id,
        token_hash=token_hash(token),
        code_hash=config.code_hash(short_code),
        opened_by=opened_by,
        created_at=moment,
        expires_at=moment + config.request_ttl,
    )
    session.add(row)
    session.flush()
    record(
        session,
        "vouching.request_opened",
        opened_by,
        subject_ref=subject_keys.reference(session, vouchee_id),
        details={"request": row.id},
    )
    return OpenedRequest(row.id, token, short_code, check_code(config, row.id), row.expires_at)


def find_request(
    session: Session,
    config: VouchingConfig,
    *,
    token: str | None = None,
    short_code: str | None = None,
    now: dt.datetime | None = None,
) -> ConfirmationRequest:
    """The open request a QR token or a typed short code names; `RequestGone` if there is
    none (unknown, expired and answered look the same)."""
    moment = now or utcnow()
    if token is not None:
        condition = ConfirmationRequest.token_hash == token_hash(token)
    else:
        code = normalize_short_code(short_code or "")
        if code is None:
            raise RequestGone()
        condition = ConfirmationRequest.code_hash == config.code_hash(code)
    return open_or_gone(session.scalar(select(ConfirmationRequest).where(condition)), moment)


def open_or_gone(row: ConfirmationRequest | None, now: dt.datetime) -> ConfirmationRequest:
    """The request if it can still be answered; `RequestGone` if unknown, answered or expired
    (one answer for all three)."""
    if row is None or row.closed_at is not None or row.expires_at <= now:
        raise RequestGone()
    return row


def take_request(session: Session, request_id: str, now: dt.datetime) -> None:
    """Answer the request, once: of concurrent answers exactly one gets through."""
    taken = session.execute(
        update(ConfirmationRequest)
        .where(
            ConfirmationRequest.id == request_id,
            ConfirmationRequest.closed_at.is_(None),
            ConfirmationRequest.expires_at > now,
        )
        .values(closed_at=now)
    )
    if rowcount(taken) != 1:
        raise RequestGone()
