"""Token Status List (draft-ietf-oauth-status-list): revocation of issued credentials.

Encoding (§4.1): statuses of `bits` each, packed from the least significant bit of byte 0
upwards, compressed with DEFLATE in the ZLIB format, base64url-encoded. Kluis uses 1-bit
lists (VALID / INVALID). Each credential gets a random, never reused index (§12.4, §12.5), so
neither indexes nor list URIs reveal issuance order, and a batch shares no index pattern.

The bits are derived from `issued_credentials.revoked_at` when a list is served: revoking is
one conditional UPDATE of one row, which cannot lose a concurrent revocation.
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import IssuedCredentialNotFound, StatusUnavailable
from attestations.models import IssuedCredential, StatusList
from audit import Pending, record, record_many
from core import InvalidInput, NotFound, b64url, new_token, rowcount, unb64url, utcnow
from keys import Keyring, UnknownKey

TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
VALID, INVALID = 0x00, 0x01
SUSPENDED = 0x02  # §7.1, in other issuers' lists of 2 or more bits; Kluis never sets it
ALLOWED_BITS = (1, 2, 4, 8)
MAX_FILL = 0.5  # open a new list at half full, so a random free index is found quickly
MAX_ALLOCATION_ATTEMPTS = 32
MAX_LIST_BYTES = 1 << 22  # refuse status lists that inflate beyond 4 MiB (zip bombs)
LEEWAY_SECONDS = 60
REASON = re.compile(r"^[a-z][a-z_]{0,31}$")


# --- the byte array (§4.1) -------------------------------------------------------------------


def pack(statuses: Iterable[tuple[int, int]], size: int, bits: int = 1) -> bytes:
    """A byte array for `size` entries with the given (index, status) pairs set."""
    if bits not in ALLOWED_BITS:
        raise ValueError("bits must be 1, 2, 4 or 8")
    per_byte = 8 // bits
    array = bytearray((size + per_byte - 1) // per_byte)
    for idx, status in statuses:
        if not 0 <= idx < size or not 0 <= status < (1 << bits):
            raise ValueError("status index or value out of range")
        shift = (idx % per_byte) * bits
        array[idx // per_byte] = (array[idx // per_byte] & ~(((1 << bits) - 1) << shift)) | (
            status << shift
        )
    return bytes(array)


def status_at(array: bytes, idx: int, bits: int = 1) -> int:
    per_byte = 8 // bits
    if idx < 0 or idx // per_byte >= len(array):
        raise IndexError("status index out of range")
    return (array[idx // per_byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1)


def encode_list(array: bytes) -> str:
    return b64url(zlib.compress(array, 9))


def decode_list(lst: str) -> bytes:
    """Inverse of `encode_list`, bounded so a hostile list cannot exhaust memory."""
    try:
        compressed = unb64url(lst)
        inflater = zlib.decompressobj()
        array = inflater.decompress(compressed, MAX_LIST_BYTES)
    except (binascii.Error, ValueError, zlib.error) as exc:
        raise StatusUnavailable("status list is not valid base64url DEFLATE") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise StatusUnavailable("status list is truncated or too large")
    return array


# --- allocation ------------------------------------------------------------------------------


def _open_list(session: Session, config: AttestationConfig, now: dt.datetime) -> StatusList:
    newest = session.scalars(
        select(StatusList).order_by(StatusList.created_at.desc()).limit(1)
    ).first()
    if newest is not None:
        used = session.scalar(
            select(func.count()).where(IssuedCredential.status_list_id == newest.id)
        )
        if (used or 0) < newest.size * MAX_FILL:
            return newest
    created = StatusList(
        id=new_token(16)[:22], bits=1, size=config.status_list_size, created_at=now
    )
    session.add(created)
    session.flush()
    return created


def record_issued(
    session: Session,
    config: AttestationConfig,
    *,
    account_id: str,
    type_id: str,
    issued_at: dt.datetime,
    expires_at: dt.datetime,
    pseudonym_holder: str | None = None,
) -> IssuedCredential:
    """Store an issued credential's metadata with a fresh random status index. The unique
    constraint on (list, index) is the arbiter between concurrent issuers."""
    status_list = _open_list(session, config, issued_at)
    for _ in range(MAX_ALLOCATION_ATTEMPTS):
        idx = secrets.randbelow(status_list.size)
        taken = session.scalar(
            select(IssuedCredential.id).where(
                IssuedCredential.status_list_id == status_list.id,
                IssuedCredential.status_idx == idx,
            )
        )
        if taken is not None:
            continue
        row = IssuedCredential(
            id=secrets.token_hex(16),
            account_id=account_id,
            type=type_id,
            status_list_id=status_list.id,
            status_idx=idx,
            issued_at=issued_at,
            expires_at=expires_at,
            pseudonym_holder=pseudonym_holder,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return row
    raise RuntimeError("no free status list index found")  # only if MAX_FILL is misconfigured


# --- revocation ------------------------------------------------------------------------------


def revoke_credential(
    session: Session, issued_id: str, reason: str, actor: str, now: dt.datetime | None = None
) -> IssuedCredential:
    """Set the credential's status to INVALID (idempotent) and audit it in the same
    transaction. `reason` is a short code such as `operator`, `erasure` or `vouch_withdrawn`."""
    if not REASON.match(reason):
        raise InvalidInput("reason must be a short lower-case code such as 'operator'")
    row = session.get(IssuedCredential, issued_id)
    if row is None:
        raise IssuedCredentialNotFound()
    moment = now or utcnow()
    # no evaluation of the UPDATE against every object in the session (linear in its size,
    # so quadratic for a caller revoking many): `row` is refreshed below
    result = session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.id == issued_id, IssuedCredential.revoked_at.is_(None))
        .values(revoked_at=moment, revocation_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 1:
        record(
            session,
            "attestation.revoked",
            actor,
            details={"credential_id": row.id, "type": row.type, "reason": reason},
        )
    session.refresh(row)
    return row


def revoke_credentials(
    session: Session, issued_ids: Iterable[str], reason: str, actor: str, now: dt.datetime
) -> list[str]:
    """`revoke_credential` for many at once (a cascade): one UPDATE per thousand, the same
    audit entries in one append. Returns the ids newly revoked, sorted."""
    if not REASON.match(reason):
        raise InvalidInput("reason must be a short lower-case code such as 'operator'")
    ordered = sorted(set(issued_ids))
    revoked: list[tuple[str, str]] = []
    for start in range(0, len(ordered), 1000):
        revoked.extend(
            session.execute(
                update(IssuedCredential)
                .where(
                    IssuedCredential.id.in_(ordered[start : start + 1000]),
                    IssuedCredential.revoked_at.is_(None),
                )
                .values(revoked_at=now, revocation_reason=reason)
                .returning(IssuedCredential.id, IssuedCredential.type)
                .execution_options(synchronize_session="fetch")
            ).tuples()
        )
    revoked.sort()
    entry = {"reason": reason}
    record_many(
        session,
        [
            Pending("attestation.revoked", actor, None, {"credential_id": i, "type": t, **entry})
            for i, t in revoked
        ],
    )
    return [i for i, _ in revoked]


def issued_credentials(session: Session, account_id: str) -> list[IssuedCredential]:
    """A resident's issued credentials (metadata only), oldest first."""
    return list(
        session.scalars(
            select(IssuedCredential)
            .where(IssuedCredential.account_id == account_id)
            .order_by(IssuedCredential.issued_at, IssuedCredential.id)
        )
    )


def revoke_all_credentials(
    session: Session, account_id: str, reason: str, actor: str, now: dt.datetime | None = None
) -> list[str]:
    """Revoke every credential still valid for the resident (erasure, disabled account).
    Returns the ids newly revoked."""
    revoked = []
    for row in issued_credentials(session, account_id):
        if row.revoked_at is None:
            revoke_credential(session, row.id, reason, actor, now)
            revoked.append(row.id)
    return revoked


# --- the Status List Token (§5.1) ------------------------------------------------------------


def status_list_token(
    session: Session,
    keyring: Keyring,
    config: AttestationConfig,
    list_id: str,
    now: dt.datetime | None = None,
) -> str:
    row = session.get(StatusList, list_id)
    if row is None:
        raise NotFound("No such status list.")
    revoked = session.scalars(
        select(IssuedCredential.status_idx).where(
            IssuedCredential.status_list_id == list_id, IssuedCredential.revoked_at.is_not(None)
        )
    )
    issued_at = int((now or utcnow()).timestamp())
    payload = {
        "sub": config.status_uri(list_id),
        "iat": issued_at,
        "exp": issued_at + int(config.status_list_lifetime.total_seconds()),
        "ttl": int(config.status_list_ttl.total_seconds()),
        "status_list": {
            "bits": row.bits,
            "lst": encode_list(pack(((i, INVALID) for i in revoked), row.size, row.bits)),
        },
    }
    return keyring.sign_jwt(session, payload, "ES256", headers={"typ": TYP})


# --- the relying party's side (§8.3) ---------------------------------------------------------


@dataclass(frozen=True)
class StatusReference:
    uri: str
    idx: int

    @classmethod
    def from_claims(cls, claims: Any) -> StatusReference:
        """§6.2: `status.status_list` with a non-negative integer `idx` and a string `uri`."""
        status = claims.get("status") if isinstance(claims, dict) else None
        ref = status.get("status_list") if isinstance(status, dict) else None
        idx = ref.get("idx") if isinstance(ref, dict) else None
        uri = ref.get("uri") if isinstance(ref, dict) else None
        if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
            raise StatusUnavailable("status.status_list.idx is missing or not an index")
        if not isinstance(uri, str) or not uri:
            raise StatusUnavailable("status.status_list.uri is missing")
        return cls(uri, idx)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_status(
    token: str,
    ref: StatusReference,
    key_for_kid: Callable[[str], Any],
    now: float | None = None,
) -> int:
    """Validate a Status List Token for `ref` (§8.3 steps 3-6) and return the status."""
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if header.get("typ") != TYP or not isinstance(kid, str):
            raise StatusUnavailable("not a statuslist+jwt")
        claims = jwt.decode(
            token,
            key_for_kid(kid),
            algorithms=["ES256"],
            # times are checked below against the caller's clock (`now`)
            options={
                "require": ["sub", "iat", "status_list"],
                "verify_aud": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except (jwt.PyJWTError, UnknownKey) as exc:
        raise StatusUnavailable("status list token does not validate") from exc
    if claims["sub"] != ref.uri:
        raise StatusUnavailable("status list token is for another list")
    moment = time.time() if now is None else now
    issued, expires = claims["iat"], claims.get("exp")
    if not _number(issued) or issued > moment + LEEWAY_SECONDS:
        raise StatusUnavailable("status list token iat is invalid")
    if expires is not None and (not _number(expires) or moment >= expires + LEEWAY_SECONDS):
        raise StatusUnavailable("status list token has expired")
    status_list = claims["status_list"]
    bits = status_list.get("bits") if isinstance(status_list, dict) else None
    lst = status_list.get("lst") if isinstance(status_list, dict) else None
    if bits not in ALLOWED_BITS or not isinstance(lst, str):
        raise StatusUnavailable("status_list needs bits and lst")
    try:
        return status_at(decode_list(lst), ref.idx, bits)
    except IndexError as exc:
        raise StatusUnavailable("status index lies outside the list") from exc
