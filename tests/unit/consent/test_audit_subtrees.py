"""The audit tree hashed in parts: each range process of `kluis audit verify --workers N`
hashes its range's perfect subtrees, and the verifying process joins them into exactly the
subtrees of the tree over all leaves (`audit.subtrees`)."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

import audit.log
import audit.ranges
import audit.scan
from audit.log import AuditLog, checkpoint_signer, verify_database, verify_log
from audit.merkle import MerkleTree, root_from_leaf_hashes
from audit.models import AuditCheckpoint, AuditEntry
from audit.ranges import PARAM_MARKERS, scan_range
from audit.record import Pending, record_many
from audit.scan import Levels, Part, _answer
from audit.subtrees import BlockHasher, joined_subtrees, perfect_levels, perfect_subtrees
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


def _expected(leaves: list[bytes], min_level: int) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree of 2**min_level leaves or more, each hashed by a cold tree."""
    cold = MerkleTree(lambda s, e: leaves[s:e], len(leaves), cache_min_level=1)
    return {
        (height, index): cold.subtree_hash(index << height, (index + 1) << height)
        for height in range(max(min_level, 1), len(leaves).bit_length())
        for index in range(len(leaves) >> height)
    }


@pytest.mark.parametrize("seed", range(12))
def test_subtrees_hashed_in_parts_join_into_those_of_the_whole_tree(seed: int) -> None:
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
    assert joined == _expected(leaves, min_level) == perfect_subtrees(leaves, min_level)
    if leaves:
        tree = MerkleTree(lambda s, e: leaves[s:e], len(leaves), cache=joined)
        assert tree.root() == root_from_leaf_hashes(leaves)


@pytest.mark.parametrize("seed", range(8))
def test_blocks_hashed_while_the_leaves_grow_are_the_levels_of_all_of_them(seed: int) -> None:
    rng = random.Random(seed)
    top = rng.randint(1, 4)
    low = rng.randint(0, top)
    every = _leaves(rng.randint(0, 200))
    hasher, leaves = BlockHasher(top, low), []
    while len(leaves) < len(every):  # rows arrive in chunks; blocks hashed in between
        leaves += every[len(leaves) : len(leaves) + rng.randint(1, 40)]
        for _ in range(rng.randint(0, 3)):
            hasher.step(leaves)
    assert hasher.done % (1 << top) == 0 and hasher.done <= len(every)
    whole = perfect_levels(every, top)
    assert hasher.finish(leaves) == {h: whole[h - 1] for h in range(max(low, 1), top + 1)}
    with pytest.raises(AssertionError):  # once only
        hasher.step(leaves)


def test_a_block_hasher_of_no_levels_or_on_another_list_is_caught() -> None:
    leaves = _leaves(20)
    assert BlockHasher(0).finish(leaves) == {}  # top 0: leaves only, nothing to hash
    assert BlockHasher(2, 3).finish(leaves) == {}  # low above top: no height kept
    hasher = BlockHasher(2)
    assert hasher.step(leaves) and hasher.step(leaves) and hasher.done == 8
    with pytest.raises(AssertionError, match="not the list"):
        hasher.step(leaves[:4])


def test_a_scan_in_small_chunks_hashes_its_blocks_as_one_pass(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit.ranges, "SCAN_ROWS", 3)  # many reads: blocks hashed between
    hasher = BlockHasher(2)
    with database.transaction() as session:
        connection = session.connection()
        marker = PARAM_MARKERS[connection.dialect.paramstyle]
        cursor = connection.connection.cursor()
        try:
            leaves, refused, first = scan_range(
                cursor, connection.dialect.name, marker, (None, None), 0, None, hasher
            )
        finally:
            cursor.close()
    assert (len(leaves), refused, first) == (ENTRIES, [], 0)
    whole = perfect_levels(leaves, 2)
    assert hasher.finish(leaves) == {1: whole[0], 2: whole[1]}


def test_parts_that_are_not_whole_blocks_are_refused() -> None:
    leaves = _leaves(24)
    with pytest.raises(ValueError, match="not whole blocks"):
        joined_subtrees([_part(leaves[:6], 2), _part(leaves[6:], 2)], 2, 1)
    short = _part(leaves[8:], 2) | {1: []}  # a level that does not fit its leaves
    with pytest.raises(ValueError, match="nodes at height 1"):
        joined_subtrees([_part(leaves[:8], 2), short], 2, 1)


def test_an_answer_in_another_shape_is_no_answer() -> None:
    leaves = _leaves(8)
    header = {"rows": 8, "first": 20, "prev": None, "refused": []}
    blob = b"".join(leaves) + b"".join(perfect_levels(leaves, 2)[1])  # height 2 of range(2, 3)
    answer = _answer(json.dumps(header).encode() + b"\n" + blob, range(2, 3))
    assert answer is not None and answer[1] == {0: leaves, 2: perfect_levels(leaves, 2)[1]}
    assert answer[0] == (leaves, [], 20, None)
    for other, cut in [
        (header, blob[:-1]),  # a byte short
        (header | {"rows": 9}, blob),
        (header | {"rows": "8"}, blob),
        (header | {"first": None}, blob),  # rows but no first index
    ]:
        assert _answer(json.dumps(other).encode() + b"\n" + cut, range(2, 3)) is None


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


@pytest.mark.parametrize("min_level", [1, 6])  # 6: Kluis's, above the processes' blocks
def test_range_processes_hash_their_subtrees_and_this_one_joins_them(
    database: Database, monkeypatch: pytest.MonkeyPatch, min_level: int
) -> None:
    log = AuditLog(checkpoint_signer(b"k" * 40, "http://testserver"))
    monkeypatch.setattr(audit.scan, "MIN_RANGE", 16)
    monkeypatch.setattr(audit.scan, "TREE_TOP", 2)
    monkeypatch.setattr(audit.log, "CACHE_MIN_LEVEL", min_level)
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
    low = min(min_level, 2)
    assert [(job["start"], job["stop"], job["tree"]) for job in started] == [
        (28, 48, [low, 2]),
        (48, ENTRIES, [low, 2]),
    ]
    for answer, size in zip(answers, (20, 22), strict=True):
        assert answer is not None
        levels = answer[1]
        assert sorted(levels) == [0, *range(low, 3)]
        assert [len(levels[h]) for h in levels] == [size >> h for h in levels]
        assert levels == {h: _part(levels[0], 2)[h] for h in levels}  # as this process does
    assert whole == []  # joined, not hashed again from the leaves

    with database.transaction() as session:  # a whole block of a range: the join still fits
        session.execute(delete(AuditEntry).where(AuditEntry.idx.between(32, 35)))
    with database.transaction() as session:
        alone = verify_log(session, log)
    assert verify_database(database, log, workers=3) == alone
    assert alone.problems[0].startswith("entry 32 is missing"), alone.problems
    assert alone.root_hash is not None and whole == []

    with database.transaction() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.idx == 40))  # not a whole block
    with database.transaction() as session:
        alone = verify_log(session, log)
    assert verify_database(database, log, workers=3) == alone
    assert alone.problems[0].startswith("entry 32 is missing"), alone.problems
    assert len(whole) == 1  # the parts no longer fit the blocks: hashed from the leaves
