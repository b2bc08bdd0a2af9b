"""The tombstone journal: what it takes to re-apply erasures after a restore, and nothing else.

A backup taken before an erasure still holds the resident's wrapped data key, their account
and their consents: restoring it would bring them back. So every erasure also appends one line
to an append-only journal kept outside the database (`KLUIS_TOMBSTONE_JOURNAL`, by default
`DATA_DIR/tombstones.jsonl`; keep it on other storage than the database and its backups).
The line is written and fsync'd just before the erasure's transaction commits, so every
acknowledged erasure is in it. `kluis restore` re-applies every tombstone whose request the
restored database lacks (rights/erasure_replay.py).

A line holds opaque ids only: the request id, account id, the resident's audit reference (the
keyed hash the audit log already uses), the field name, platform client ids and claim names,
who asked (`resident`/`operator`) and when. Every value is checked against a strict pattern on
write and on read, so free text (a reason, a name, an address) cannot get in.

If the commit fails after the line was written, the journal holds an erasure the database does
not: a restore applies it, erring towards the erasure the resident asked for and confirmed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core import fsync_path

VERSION = 1
KINDS = ("account", "field")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FIELD = re.compile(r"^[a-z][a-z_]{0,31}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
_CLAIM = re.compile(r"^[a-z][a-z0-9_]{0,63}(\.[a-z0-9_]{1,64}){0,4}$")
_ACTOR = re.compile(r"^[a-z][a-z_]*(:[A-Za-z0-9._~\-]{1,128})?$")
_REQUESTERS = ("resident", "operator")
_PENDING = "kluis.tombstones.pending"  # session.info: [(journal, tombstone)]


class JournalError(Exception):
    """The journal cannot be read or written; the message says where and why (no values)."""


@dataclasses.dataclass(frozen=True)
class Tombstone:
    """One executed erasure: a whole account (`field` None) or one field."""

    request_id: str
    account_id: str
    subject_ref: str
    field: str | None
    requested_by: str
    actor: str
    received_at: dt.datetime
    # platform client id -> the claim names it had received (empty for account erasures)
    platforms: Mapping[str, tuple[str, ...]]

    @property
    def kind(self) -> str:
        return "account" if self.field is None else "field"

    def to_json(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "kind": self.kind,
            "request": self.request_id,
            "account": self.account_id,
            "subject_ref": self.subject_ref,
            "field": self.field,
            "requested_by": self.requested_by,
            "actor": self.actor,
            "received_at": self.received_at.astimezone(dt.UTC).isoformat(),
            "platforms": {c: list(self.platforms[c]) for c in sorted(self.platforms)},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tombstone:
        if data.get("v") != VERSION or data.get("kind") not in KINDS:
            raise ValueError("unknown version or kind")
        platforms = data.get("platforms")
        if not isinstance(platforms, dict):
            raise ValueError("platforms is not an object")
        field = data.get("field")
        if (data["kind"] == "account") != (field is None):
            raise ValueError("kind and field disagree")
        tombstone = cls(
            request_id=data["request"],
            account_id=data["account"],
            subject_ref=data["subject_ref"],
            field=field,
            requested_by=data["requested_by"],
            actor=data["actor"],
            received_at=dt.datetime.fromisoformat(data["received_at"]),
            platforms={str(c): tuple(claims) for c, claims in platforms.items()},
        )
        tombstone.check()
        return tombstone

    def check(self) -> None:
        """Only opaque ids and names from fixed vocabularies: refuse anything else."""
        checks = [
            (_HEX32, self.request_id, "request"),
            (_HEX32, self.account_id, "account"),
            (_HEX64, self.subject_ref, "subject_ref"),
            (_ACTOR, self.actor, "actor"),
        ]
        if self.field is not None:
            checks.append((_FIELD, self.field, "field"))
        for client_id, claims in self.platforms.items():
            checks.append((_CLIENT_ID, client_id, "platform"))
            checks.extend((_CLAIM, claim, "claim") for claim in claims)
        for pattern, value, name in checks:
            if not isinstance(value, str) or not pattern.match(value):
                raise ValueError(f"{name} is not an opaque id of the expected form")
        if self.requested_by not in _REQUESTERS:
            raise ValueError("requested_by is not resident or operator")
        if self.received_at.tzinfo is None:
            raise ValueError("received_at has no time zone")


def _line(tombstone: Tombstone) -> bytes:
    body = tombstone.to_json()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    body["sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    return (json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _parse(raw: bytes) -> Tombstone:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    digest = data.pop("sha256", None)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if digest != hashlib.sha256(canonical.encode()).hexdigest():
        raise ValueError("checksum mismatch")
    return Tombstone.from_json(data)


class TombstoneJournal:
    """An append-only JSON Lines file, shared by every app process of one deployment."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, tombstones: Iterable[Tombstone]) -> None:
        """Append and fsync; returns only once the lines are on disk."""
        lines = []
        for tombstone in tombstones:
            tombstone.check()
            lines.append(_line(tombstone))
        if not lines:
            return
        created = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # several app processes append
                data = b"".join(lines)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # a torn line (power loss) stays a line of its own
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_path(self.path.parent)
        except OSError as exc:
            raise JournalError(
                f"cannot append to the tombstone journal {self.path}: {exc.strerror}"
            ) from exc

    def read(self) -> list[Tombstone]:
        """Every tombstone in order. A missing file is an empty journal; a line that does not
        parse, fails its checksum or holds anything but opaque ids is refused by number."""
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise JournalError(f"cannot read the tombstone journal {self.path}: {exc}") from exc
        tombstones, bad = [], []
        for number, raw in enumerate(content.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                tombstones.append(_parse(raw))
            except (ValueError, KeyError, TypeError) as exc:
                bad.append(f"line {number} ({exc})")
        if bad:
            raise JournalError(
                f"the tombstone journal {self.path} has unreadable lines: {', '.join(bad)}. "
                "Nothing was changed. Inspect those lines; if one is a torn last write from "
                "a crash, move it out of the file and try again."
            )
        return tombstones

    def stage(self, session: Session, tombstone: Tombstone) -> None:
        """Append `tombstone` when `session` commits, before the commit reaches the database
        (so an erasure is acknowledged only once its tombstone is on disk)."""
        tombstone.check()
        if session.get_transaction() is None:
            session.begin()  # so that a rollback, which drops the staged line, ends it
        session.info.setdefault(_PENDING, []).append((self, tombstone))


def merged(journals: Sequence[Sequence[Tombstone]]) -> list[Tombstone]:
    """Several journals (one per host) as one: each request once, in the order received."""
    if len(journals) == 1:
        return list(journals[0])
    seen: dict[str, Tombstone] = {}
    for journal in journals:
        for tombstone in journal:
            seen.setdefault(tombstone.request_id, tombstone)
    return sorted(seen.values(), key=lambda t: t.received_at)


@event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    staged: list[tuple[TombstoneJournal, Tombstone]] = session.info.get(_PENDING) or []
    if not staged:
        return
    # A flush the database refuses must not leave a tombstone behind: flush first.
    session.flush()
    by_journal: dict[int, tuple[TombstoneJournal, list[Tombstone]]] = {}
    for journal, tombstone in staged:
        by_journal.setdefault(id(journal), (journal, []))[1].append(tombstone)
    for journal, tombstones in by_journal.values():
        journal.append(tombstones)
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_staged(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back erasure leaves no tombstone.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
