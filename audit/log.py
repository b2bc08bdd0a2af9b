"""The tamper-evident audit log: an RFC 9162 Merkle tree over `audit_entries`, signed
checkpoints (C2SP tlog-checkpoint in a C2SP signed note, Ed25519), inclusion and consistency
proofs, full verification and export.

`record()` (audit/record.py) appends; this module reads. A checkpoint commits to the first
N entries; any later change to, removal or reordering of those entries makes `verify_log`
fail and name the first bad entry.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session

from audit.checkpoint import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    sign_checkpoint,
)
from audit.merkle import MerkleError, MerkleTree
from audit.models import AuditCheckpoint, AuditEntry
from audit.proofs import verify_consistency
from audit.ranges import PARAM_MARKERS
from audit.scan import scan_entries
from core import Database, utcnow
from keys import derive_key

SCAN_BATCH = 5_000
# Perfect subtrees of 64 leaves and up are kept in memory (~2 * n / 64 hashes: ~31,000 for a
# million entries, a few MB), so a proof reads at most two ranges of 64 leaf hashes.
CACHE_MIN_LEVEL = 6
_LEAF_RANGE = (
    select(AuditEntry.leaf_hash)
    .where(AuditEntry.idx >= bindparam("start"), AuditEntry.idx < bindparam("end"))
    .order_by(AuditEntry.idx)
)
_LEAF_RANGE_SQL = "SELECT leaf_hash FROM audit_entries WHERE idx >= {p} AND idx < {p} ORDER BY idx"


def log_origin(issuer: str) -> str:
    """The checkpoint origin: the issuer's host and path, then `/audit` (a schema-less URL)."""
    parts = urlsplit(issuer)
    host = parts.hostname or "kluis"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path.rstrip('/')}/audit"


def checkpoint_signer(secret: bytes, issuer: str) -> NoteSigner:
    """The log's Ed25519 key, derived from the service secret for this purpose alone."""
    return NoteSigner(log_origin(issuer), derive_key(secret, "kluis/audit/checkpoint-ed25519"))


class AuditLog:
    def __init__(self, signer: NoteSigner) -> None:
        self.signer = signer
        self.origin = signer.name
        self._cache: dict[tuple[int, int], bytes] = {}  # perfect subtrees never change

    @property
    def verifier(self) -> NoteVerifier:
        return self.signer.verifier

    def size(self, session: Session) -> int:
        """Indices are dense from 0, so the size is one past the last index (an index look-up,
        where counting rows would scan them all on PostgreSQL)."""
        last = session.scalar(select(func.max(AuditEntry.idx)))
        return 0 if last is None else int(last) + 1

    def tree(self, session: Session, size: int | None = None) -> MerkleTree:
        def leaves(start: int, end: int) -> Sequence[bytes]:
            connection = session.connection()  # the session's transaction
            marker = PARAM_MARKERS.get(connection.dialect.paramstyle)
            if marker is None:
                result = connection.execute(_LEAF_RANGE, {"start": start, "end": end})
                return result.scalars().all()
            # A cold cache reads every leaf hash: plain DB-API rows, no per-row Row objects.
            cursor = connection.connection.cursor()
            try:
                cursor.execute(_LEAF_RANGE_SQL.format(p=marker), (start, end))
                return [bytes(row[0]) for row in cursor.fetchall()]
            finally:
                cursor.close()

        return MerkleTree(
            leaves,
            self.size(session) if size is None else size,
            cache=self._cache,
            cache_min_level=CACHE_MIN_LEVEL,
        )

    def checkpoint(self, session: Session) -> AuditCheckpoint:
        """Sign and store a checkpoint for the current tree (idempotent per size)."""
        tree = self.tree(session)
        existing = session.get(AuditCheckpoint, tree.size)
        if existing is not None:
            return existing
        root = tree.root()
        note = sign_checkpoint(Checkpoint(self.origin, tree.size, root), [self.signer])
        row = AuditCheckpoint(tree_size=tree.size, root_hash=root, note=note, created_at=utcnow())
        session.add(row)
        session.flush()
        return row

    def latest_checkpoint(self, session: Session) -> AuditCheckpoint | None:
        return session.scalar(
            select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
        )

    def inclusion(self, session: Session, index: int, size: int | None = None) -> dict[str, object]:
        tree = self.tree(session, size)
        proof = tree.inclusion_proof(index)
        return {
            "index": index,
            "tree_size": tree.size,
            "root_hash": _b64(tree.root()),
            # MTH of one leaf is its leaf hash; read with the proof's block, no extra query
            "leaf_hash": _b64(tree.subtree_hash(index, index + 1)),
            "proof": [_b64(p) for p in proof],
        }

    def consistency(
        self, session: Session, old_size: int, size: int | None = None
    ) -> dict[str, object]:
        tree = self.tree(session, size)
        return {
            "old_size": old_size,
            "tree_size": tree.size,
            "old_root_hash": _b64(tree.subtree_hash(0, old_size)) if old_size else None,
            "root_hash": _b64(tree.root()),
            "proof": [_b64(p) for p in tree.consistency_proof(old_size)],
        }


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@dataclasses.dataclass
class VerifyReport:
    tree_size: int
    root_hash: bytes | None
    checkpoints: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_database(db: Database, log: AuditLog, workers: int = 1) -> VerifyReport:
    """`verify_log` in a read of its own that sees one snapshot throughout (on PostgreSQL a
    REPEATABLE READ transaction, exported to the range processes; on SQLite the transaction
    holds the write lock), so `workers` processes may scan ranges of the log."""
    with db.transaction() as session:
        bind = session.get_bind()
        if not isinstance(bind, Engine):  # joined to a caller's transaction, maybe written to
            return verify_log(session, log)
        if bind.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return verify_log(session, log, workers=workers)


def verify_log(session: Session, log: AuditLog, workers: int = 1) -> VerifyReport:
    """Recompute every leaf from its entry and check the chain, then the tree against every
    stored checkpoint: signature, root at its size, and consistency with the one before.

    `workers` > 1 lets ranges of the log be scanned by processes of their own; pass it only
    for a transaction that has written nothing (they would not see its writes), as
    `verify_database` does."""
    problems: list[str] = []
    # The perfect subtrees are hashed once (in part by the range processes), shared by the
    # tree at every checkpointed size.
    leaves, problem, cache = scan_entries(session, workers, CACHE_MIN_LEVEL)
    if problem:
        problems.append(problem)

    def prefix(size: int) -> MerkleTree:
        return MerkleTree(
            lambda s, e: leaves[s:e], size, cache=cache, cache_min_level=CACHE_MIN_LEVEL
        )

    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))
    matched = 0  # the largest checkpointed size that still matches
    previous: Checkpoint | None = None
    for cp in checkpoints:
        try:
            opened = open_checkpoint(cp.note, [log.verifier], origin=log.origin)
        except NoteError as exc:
            problems.append(f"checkpoint at size {cp.tree_size} has a bad signature: {exc}")
            continue
        if opened.size != cp.tree_size or opened.root_hash != cp.root_hash:
            problems.append(f"checkpoint at size {cp.tree_size} disagrees with its signed note")
            continue
        if opened.size > len(leaves):
            problems.append(
                f"entries {len(leaves)} to {opened.size - 1} were removed "
                f"(a checkpoint covers {opened.size} entries, the log has {len(leaves)})"
            )
            continue
        if opened.size and prefix(opened.size).root() != opened.root_hash:
            problems.append(
                f"an entry between {matched} and {opened.size - 1} was rewritten "
                f"(the checkpoint at size {opened.size} no longer matches)"
            )
            continue
        if previous is not None and previous.size > 0:
            try:
                verify_consistency(
                    previous.size,
                    opened.size,
                    previous.root_hash,
                    opened.root_hash,
                    prefix(opened.size).consistency_proof(previous.size),
                )
            except MerkleError as exc:
                problems.append(
                    f"checkpoints at sizes {previous.size} and {opened.size} are "
                    f"inconsistent: {exc}"
                )
        matched, previous = opened.size, opened
    return VerifyReport(
        tree_size=len(leaves),
        root_hash=prefix(len(leaves)).root(),
        checkpoints=len(checkpoints),
        problems=problems,
    )


def export_entries(session: Session) -> Iterator[str]:
    """JSON Lines: each entry's canonical JSON with its leaf hash."""
    for offset in range(0, 1 << 62, SCAN_BATCH):
        rows = list(
            session.scalars(
                select(AuditEntry).order_by(AuditEntry.idx).offset(offset).limit(SCAN_BATCH)
            )
        )
        if not rows:
            return
        for row in rows:
            yield json.dumps(
                {
                    "index": row.idx,
                    "entry": json.loads(row.entry),
                    "leaf_hash": _b64(row.leaf_hash),
                },
                ensure_ascii=False,
                sort_keys=True,
            )
