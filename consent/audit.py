"""The audit log core: `record()` appends one entry inside the caller's transaction.

Entries name residents only by opaque references (`keys.SubjectKeys.reference`), never by
name, e-mail, postcode or birth date; `record` refuses details that look like personal data
as a last line of defence. Each entry is canonical JSON whose RFC 9162 leaf hash is stored
with it, so the Merkle tree over the log can be built without re-reading payloads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.merkle import leaf_hash
from consent.models import AuditEntry
from core.canonical import canonical_json
from core.db import lock_for_append, utcnow

EVENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
ACTOR_PATTERN = re.compile(r"^[a-z][a-z_]*(:[A-Za-z0-9._~\-]{1,128})?$")
SUBJECT_REF_PATTERN = re.compile(r"^[0-9a-f]{64}$")
FORBIDDEN_KEYS = frozenset(
    {
        "email",
        "e_mail",
        "name",
        "given_name",
        "family_name",
        "postcode",
        "address",
        "birth_date",
        "birthdate",
        "date_of_birth",
        "bsn",
        "password",
        "phone",
    }
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTCODE = re.compile(r"\b[1-9][0-9]{3}\s?[A-Za-z]{2}\b")
_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b(?!T)")
_LOCK_NAME = "kluis.audit_entries"


class PersonalDataInAudit(ValueError):
    """A caller tried to put something that looks like personal data into the audit log."""


def _check_details(details: Any, path: str = "details") -> None:
    if isinstance(details, Mapping):
        for key, value in details.items():
            if str(key).lower() in FORBIDDEN_KEYS:
                raise PersonalDataInAudit(f"{path}.{key} is a personal-data field")
            _check_details(value, f"{path}.{key}")
    elif isinstance(details, list | tuple):
        for i, value in enumerate(details):
            _check_details(value, f"{path}[{i}]")
    elif isinstance(details, str) and (
        _EMAIL.search(details) or _POSTCODE.search(details) or _DATE.search(details)
    ):
        raise PersonalDataInAudit(f"{path} looks like an e-mail address, postcode or date")


def record(
    session: Session,
    event: str,
    actor: str,
    subject_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry in the caller's transaction and return it.

    `event` is a dotted name (`key.rotated`), `actor` who acted (`operator:cli`,
    `client:<client_id>`, `resident`, `system`), `subject_ref` the resident's opaque audit
    reference or None, `details` JSON facts without personal data.
    """
    if not EVENT_PATTERN.match(event):
        raise ValueError(f"audit event {event!r} is not a dotted lower-case name")
    if not ACTOR_PATTERN.match(actor):
        raise ValueError("audit actor must be a role optionally followed by ':<opaque id>'")
    if subject_ref is not None and not SUBJECT_REF_PATTERN.match(subject_ref):
        raise ValueError("audit subject_ref must be an opaque 64-hex reference")
    details = dict(details or {})
    _check_details(details)

    lock_for_append(session, _LOCK_NAME)
    last = session.execute(
        select(AuditEntry.idx, AuditEntry.leaf_hash).order_by(AuditEntry.idx.desc()).limit(1)
    ).first()
    idx = 0 if last is None else last.idx + 1
    now = utcnow()
    payload = {
        "idx": idx,
        # Chaining each entry to its predecessor's leaf lets verification name the exact entry
        # that was rewritten, even when its stored leaf hash was rewritten with it.
        "prev": last.leaf_hash.hex() if last is not None else None,
        "ts": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "event": event,
        "actor": actor,
        "subject": subject_ref,
        "details": details,
    }
    entry_bytes = canonical_json(payload)
    row = AuditEntry(
        idx=idx,
        created_at=now,
        event=event,
        actor=actor,
        subject_ref=subject_ref,
        entry=entry_bytes.decode("utf-8"),
        leaf_hash=leaf_hash(entry_bytes),
    )
    session.add(row)
    session.flush()
    return row
