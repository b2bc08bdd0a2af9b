"""The address a source established for an account, for the shared-address rule: kept only as
the keyed hash `VouchingConfig.address_ref` of postcode and house number (never the address),
one per account, replaced when a source establishes a newer one.

A source calls `record_address` when it knows the house number at the moment it issues a
`postcode` attestation (the rule counts the reference only while such an attestation is
valid): the desk, from its form. A source that must not keep the house number until then
hashes the address when it has it (`config.AddressHasher`) and later records that reference
with `record_address_ref`: letters, whose codes keep only the hash of their address.
Recording does not re-judge anyone at once: the periodic `settle` does, under the rules as
they then read (a shared address can only lower a count)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from attestations.vouching.config import VouchingConfig
from attestations.vouching.grants import GRAPH_LOCK
from attestations.vouching.models import VouchingAddress
from audit import record
from core import InvalidInput, lock_named, utcnow
from keys import SubjectKeys

SOURCES = ("desk", "letter", "registry")
REFERENCE = re.compile(r"^[0-9a-f]{64}$")


def record_address(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    account_id: str,
    postcode: str,
    house_number: str | int,
    addition: str = "",
    source: str,
    actor: str,
    now: dt.datetime | None = None,
) -> bool:
    """Keep the keyed hash of the account's address from `source`. Returns whether it changed
    (False when the same address was recorded before). `InvalidInput` for a malformed postcode
    or house number, or an unknown source. Audited without the address. The caller commits."""
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}")
    ref = config.address_ref(postcode, str(house_number), addition)
    return record_address_ref(
        session,
        subject_keys,
        account_id=account_id,
        address_ref=ref,
        source=source,
        actor=actor,
        now=now,
    )


def record_address_ref(
    session: Session,
    subject_keys: SubjectKeys,
    *,
    account_id: str,
    address_ref: str,
    source: str,
    actor: str,
    now: dt.datetime | None = None,
) -> bool:
    """`record_address` for a reference the source computed before (`config.AddressHasher`,
    with the key of this deployment). `InvalidInput` for an unknown source or something that
    is not such a reference. The caller commits."""
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}")
    if not REFERENCE.match(address_ref):
        raise InvalidInput("an address reference is 64 lower-case hexadecimal characters")
    ref = address_ref
    moment = now or utcnow()
    lock_named(session, GRAPH_LOCK)
    row = session.get(VouchingAddress, account_id)
    if row is not None and row.address_ref == ref:
        return False
    if row is None:
        session.add(
            VouchingAddress(
                account_id=account_id, address_ref=ref, source=source, recorded_at=moment
            )
        )
    else:
        row.address_ref, row.source, row.recorded_at = ref, source, moment
    session.flush()
    record(
        session,
        "vouching.address_recorded",
        actor,
        subject_ref=subject_keys.reference(session, account_id),
        details={"source": source, "replaced": row is not None},
    )
    return True


def forget_address(
    session: Session, subject_keys: SubjectKeys, *, account_id: str, actor: str
) -> bool:
    """Drop the account's address reference (the resident's postcode was erased, or a source
    withdrew it). Returns whether there was one. The caller commits."""
    row = session.get(VouchingAddress, account_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    record(
        session,
        "vouching.address_forgotten",
        actor,
        subject_ref=subject_keys.reference(session, account_id),
    )
    return True
