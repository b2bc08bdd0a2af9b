"""The audit tree hashed in parts: each range process of `kluis audit verify --workers N`
hashes its range's perfect subtrees, and the verifying process joins them into exactly the
subtrees one pass over all leaves gives (`audit.merkle.joined_subtrees`)."""

from __future__ import annotations

import hashlib
import random
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

import audit.log
import audit.scan
from audit.log import AuditLog, checkpoint_signer, verify_database, verify_log
from audit.merkle import (
    MerkleTree,
    joined_subtrees,
    perfect_levels,
    perfect_subtrees,
    root_from_leaf_hashes,
)
from audit.models import AuditCheckpoint, AuditEntry
from audit.record import Pending, record_many
from audit.scan import Levels, Part
from core.db import Database

ENTRIES = 70  # three ranges, the other two of blocks of 4 (TREE_TOP 2), the last not whole


def _leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)]


def _part(leaves: list[bytes], top: int) -> Levels:
    levels = perfect_levels(leaves, top)
    return {0: leaves} | {height: levels[height - 1] for height in range(1, top + 1)}


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 63, 64, 65, 300])
def test_perfect_levels_hold_the_whole_subtrees_of_each_height(count: int) -> None:
    leaves = _leaves(count)
    levels = perfect_levels(leaves, 4)
    assert [len(level) for level in levels] == [count >> h for h in range(1, 5)]
    cold = MerkleTree(lambda s, e: leaves[s:e], count, cache_min_level=1)
    for height, level in enumerate(levels, start=1):
        for index, node in enumerate(level):
            assert node == cold.subtree_hash(index << height, (index + 1) << height)
    assert perfect_levels(leaves) == perfect_levels(leaves, max(count.bit_length() - 1, 0))


@pytest.mark.parametrize("seed", range(12))
def test_subtrees_hashed_in_parts_join_into_those_of_one_pass(seed: int) -> None:
    rng = random.Random(seed)
    top, min_level = rng.randint(0, 4), rng.randint(0, 6)
    block = 1 << top
    sizes = [block * rng.randint(1, 6) for _ in range(rng.randint(0, 3))]
    sizes.append(rng.randint(0, 3 * block))  # the last part need not be whole blocks
    leaves = _leaves(sum(sizes))
    parts, start = [], 0
    for size in sizes:
        parts.append(_part(leaves[start : start + size], top))
        start += size
    joined = joined_subtrees(parts, top, min_level)
    assert joined == perfect_subtrees(leaves, min_level)
    if leaves:
        tree = MerkleTree(lambda s, e: leaves[s:e], len(leaves), cache=joined)
        assert tree.root() == root_from_leaf_hashes(leaves)


def test_parts_that_are_not_whole_blocks_are_refused() -> None:
    leaves = _leaves(24)
    with pytest.raises(ValueError, match="not whole blocks"):
        joined_subtrees([_part(leaves[:6], 2), _part(leaves[6:], 2)], 2, 1)
    short = _part(leaves[8:], 2) | {1: []}  # a level that does not fit its leaves
    with pytest.raises(ValueError, match="nodes at height 1"):
        joined_subtrees([_part(leaves[:8], 2), short], 2, 1)


@pytest.fixture
def database(fresh_database: str) -> Iterator[Database]:
    database = Database.from_url(fresh_database)
    with database.transaction() as session:
        session.execute(delete(AuditCheckpoint))
        session.execute(delete(AuditEntry))
        record_many(
            session, [Pending("test.event", "system", None, {"n": i}) for i in range(ENTRIES)]
        )
    with database.transaction() as session:
        AuditLog(checkpoint_signer(b"k" * 40, "http://testserver")).checkpoint(session)
    try:
        yield database
    finally:
        database.dispose()


def test_range_processes_hash_their_subtrees_and_this_one_joins_them(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(checkpoint_signer(b"k" * 40, "http://testserver"))
    monkeypatch.setattr(audit.scan, "MIN_RANGE", 16)
    monkeypatch.setattr(audit.scan, "TREE_TOP", 2)
    monkeypatch.setattr(audit.log, "CACHE_MIN_LEVEL", 1)  # heights 1 and 2 come from processes
    started: list[dict[str, object]] = []
    start = audit.scan._start
    monkeypatch.setattr(audit.scan, "_start", lambda job: started.append(job) or start(job))
    answers: list[tuple[Part, Levels] | None] = []
    collect = audit.scan._collect

    def collected(process: subprocess.Popen[bytes], job: dict[str, object]) -> object:
        answers.append(collect(process, job))
        return answers[-1]

    monkeypatch.setattr(audit.scan, "_collect", collected)
    whole: list[dict[tuple[int, int], bytes]] = []
    fallback = audit.scan.perfect_subtrees
    monkeypatch.setattr(
        audit.scan, "perfect_subtrees", lambda *a: whole.append(fallback(*a)) or whole[-1]
    )
    one = verify_database(database, log, workers=1)
    three = verify_database(database, log, workers=3)
    assert three == one and one.ok, one.problems
    # 70 entries, a head start of 8: this process 0-27, the others 28-47 and 48-69 (21 each,
    # rounded to blocks of 4: at most a quarter of a range)
    assert [(job["start"], job["stop"], job["tree"]) for job in started] == [
        (28, 48, [1, 2]),
        (48, ENTRIES, [1, 2]),
    ]
    for answer, size in zip(answers, (20, 22), strict=True):
        assert answer is not None
        levels = answer[1]
        assert [len(levels[h]) for h in (0, 1, 2)] == [size, size >> 1, size >> 2]
        assert levels == _part(levels[0], 2)  # as this process hashes them
    assert whole == []  # joined, not hashed again from the leaves

    with database.transaction() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.idx == 30))  # inside a range
    with database.transaction() as session:
        alone = verify_log(session, log)
    assert verify_database(database, log, workers=3) == alone
    assert alone.problems[0].startswith("entry 30 is missing"), alone.problems
    assert len(whole) == 1  # the parts no longer fit the blocks: hashed from the leaves
