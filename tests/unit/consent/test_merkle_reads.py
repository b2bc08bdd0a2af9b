"""The storage-backed tree reads few ranges: a cold root in large reads, a proof in at most two
block reads (each read is one SQL query in the audit log)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from audit.merkle import MerkleTree, consistency_proof, inclusion_proof, root_from_leaf_hashes
from audit.proofs import verify_inclusion

_LEAVES = [hashlib.sha256(b"%d" % i).digest() for i in range(20_000)]


class RecordingSource:
    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.hashes = hashes
        self.reads: list[tuple[int, int]] = []

    def __call__(self, start: int, end: int) -> Sequence[bytes]:
        self.reads.append((start, end))
        return self.hashes[start:end]


def test_a_cold_root_reads_every_leaf_once_in_large_ranges() -> None:
    source = RecordingSource(_LEAVES)
    tree = MerkleTree(source, 20_000, cache={}, cache_min_level=4)
    assert tree.root() == root_from_leaf_hashes(_LEAVES)
    assert sum(end - start for start, end in source.reads) == 20_000
    assert max(end - start for start, end in source.reads) <= 2**14
    assert len(source.reads) < 20_000 // 2**4 // 64  # far fewer than one read per block


def test_a_warm_proof_reads_at_most_two_blocks_and_matches_the_reference() -> None:
    cache: dict[tuple[int, int], bytes] = {}
    size = 19_999
    MerkleTree(RecordingSource(_LEAVES), size, cache=cache, cache_min_level=4).root()
    root = root_from_leaf_hashes(_LEAVES[:size])
    for index in (0, 7, 4095, 4096, 12_345, 19_983, 19_998):
        source = RecordingSource(_LEAVES)
        tree = MerkleTree(source, size, cache=cache, cache_min_level=4)
        proof = tree.inclusion_proof(index)
        assert proof == inclusion_proof(_LEAVES, index, size)
        assert tree.subtree_hash(index, index + 1) == _LEAVES[index]  # no further read
        verify_inclusion(index, size, _LEAVES[index], proof, root)
        assert len(source.reads) <= 2
        assert all(end - start <= 16 and start % 16 == 0 for start, end in source.reads)
    source = RecordingSource(_LEAVES)
    tree = MerkleTree(source, size, cache=cache, cache_min_level=4)
    assert tree.consistency_proof(5_001) == consistency_proof(_LEAVES, 5_001, size)
    assert len(source.reads) <= 2


def test_a_partly_cached_tree_still_gives_the_reference_root() -> None:
    cache: dict[tuple[int, int], bytes] = {}
    MerkleTree(lambda s, e: _LEAVES[s:e], 3_000, cache=cache, cache_min_level=3).root()
    for size in (3_001, 4_096, 9_999, 20_000):
        tree = MerkleTree(lambda s, e: _LEAVES[s:e], size, cache=cache, cache_min_level=3)
        assert tree.root() == root_from_leaf_hashes(_LEAVES[:size])
