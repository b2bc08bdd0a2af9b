"""RFC 9162 Merkle tree: upstream vectors, known answers and properties."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    HashLengthError,
    InvalidSizeError,
    LeafSourceError,
    MerkleError,
    MerkleTree,
    ProofLengthError,
    RootMismatchError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
)
from audit.proofs import verify_consistency, verify_inclusion
from tests.support.vectors import VECTORS as SHARED_VECTORS

VECTORS = SHARED_VECTORS / "merkle"


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _load(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {VECTORS}"
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS))) for f in files]


# --- transparency-dev/merkle testdata (see ../shared/vectors/README.md) ---------------------


@pytest.mark.parametrize("vector", _load("inclusion"))
def test_inclusion_vector_verdict_matches_upstream(vector: dict[str, Any]) -> None:
    args = (
        vector["leafIdx"],
        vector["treeSize"],
        _b64(vector["leafHash"]),
        [_b64(p) for p in vector["proof"] or []],
        _b64(vector["root"]),
    )
    if vector["wantErr"]:
        with pytest.raises(MerkleError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("vector", _load("consistency"))
def test_consistency_vector_verdict_matches_upstream(vector: dict[str, Any]) -> None:
    args = (
        vector["size1"],
        vector["size2"],
        _b64(vector["root1"]),
        _b64(vector["root2"]),
        [_b64(p) for p in vector["proof"] or []],
    )
    if vector["wantErr"]:
        with pytest.raises(MerkleError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# --- known answers ---------------------------------------------------------------------------


def test_rfc6962_known_answers() -> None:
    # transparency-dev/merkle rfc6962/rfc6962_test.go, listed in ../shared/vectors/README.md
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert (
        leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert (
        leaf_hash(b"L123456").hex()
        == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


# transparency-dev/merkle testonly/constants.go and testonly/reference_test.go at 417fb0c3:
# eight leaf inputs, the roots of every prefix, and reference proofs over them.
KAT_LEAF_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
KAT_ROOTS = [
    EMPTY_ROOT.hex(),
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
_H0 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
_H1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
_H4 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
_H23 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
_H45 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
_H67 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
_H0123 = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
_H4567 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
KAT_LEAF_HASHES = [leaf_hash(bytes.fromhex(h)) for h in KAT_LEAF_INPUTS]


@pytest.mark.parametrize("size", range(9))
def test_roots_of_upstream_reference_tree(size: int) -> None:
    assert root_from_leaf_hashes(KAT_LEAF_HASHES[:size]).hex() == KAT_ROOTS[size]


@pytest.mark.parametrize(
    ("index", "size", "want"),
    [
        (0, 1, []),
        (0, 2, [_H1]),
        (1, 2, [_H0]),
        (2, 3, [KAT_ROOTS[2]]),
        (1, 5, [_H0, _H23, _H4]),
        (0, 8, [_H1, _H23, _H4567]),
        (5, 8, [_H4, _H67, _H0123]),
    ],
)
def test_inclusion_proof_matches_upstream_reference(index: int, size: int, want: list[str]) -> None:
    proof = inclusion_proof(KAT_LEAF_HASHES, index, size)
    assert [p.hex() for p in proof] == want
    verify_inclusion(index, size, KAT_LEAF_HASHES[index], proof, bytes.fromhex(KAT_ROOTS[size]))


@pytest.mark.parametrize(
    ("old", "new", "want"),
    [
        (1, 1, []),
        (1, 8, [_H1, _H23, _H4567]),
        (2, 5, [_H23, _H4]),
        (6, 8, [_H45, _H67, _H0123]),
    ],
)
def test_consistency_proof_matches_upstream_reference(old: int, new: int, want: list[str]) -> None:
    proof = consistency_proof(KAT_LEAF_HASHES, old, new)
    assert [p.hex() for p in proof] == want
    verify_consistency(
        old, new, bytes.fromhex(KAT_ROOTS[old]), bytes.fromhex(KAT_ROOTS[new]), proof
    )


# --- strictness ------------------------------------------------------------------------------

_TREE = [leaf_hash(b"%d" % i) for i in range(13)]
_ROOT = root_from_leaf_hashes(_TREE)


def test_verify_inclusion_rejects_short_leaf_hash_and_proof_node() -> None:
    proof = inclusion_proof(_TREE, 5, 13)
    with pytest.raises(HashLengthError, match="leaf hash is 31 bytes"):
        verify_inclusion(5, 13, _TREE[5][:31], proof, _ROOT)
    with pytest.raises(HashLengthError, match="proof node 1 is 33 bytes"):
        verify_inclusion(5, 13, _TREE[5], [proof[0], proof[1] + b"\0", *proof[2:]], _ROOT)


def test_verify_inclusion_rejects_index_at_or_beyond_size() -> None:
    with pytest.raises(InvalidSizeError, match="leaf index 13 is not below tree size 13"):
        verify_inclusion(13, 13, _TREE[0], [], _ROOT)
    with pytest.raises(InvalidSizeError):
        verify_inclusion(-1, 13, _TREE[0], [], _ROOT)


def test_verify_inclusion_rejects_proof_of_wrong_length() -> None:
    proof = inclusion_proof(_TREE, 5, 13)
    with pytest.raises(ProofLengthError, match="has 3 nodes, expected 4"):
        verify_inclusion(5, 13, _TREE[5], proof[:-1], _ROOT)
    with pytest.raises(ProofLengthError, match="has 5 nodes, expected 4"):
        verify_inclusion(5, 13, _TREE[5], [*proof, _ROOT], _ROOT)


def test_verify_consistency_rejects_empty_old_tree_and_shrinking() -> None:
    with pytest.raises(InvalidSizeError, match="empty tree is meaningless"):
        verify_consistency(0, 13, EMPTY_ROOT, _ROOT, [])
    with pytest.raises(InvalidSizeError, match="smaller than old size"):
        verify_consistency(13, 12, _ROOT, _ROOT, [])


def test_verify_consistency_of_equal_sizes_needs_equal_roots_and_no_proof() -> None:
    verify_consistency(13, 13, _ROOT, _ROOT, [])
    with pytest.raises(RootMismatchError):
        verify_consistency(13, 13, _ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofLengthError, match="must be empty"):
        verify_consistency(13, 13, _ROOT, _ROOT, [_ROOT])


def test_verify_consistency_names_the_root_that_does_not_match() -> None:
    old_root = root_from_leaf_hashes(_TREE[:6])
    proof = consistency_proof(_TREE, 6, 13)
    with pytest.raises(RootMismatchError, match="old root"):
        verify_consistency(6, 13, _ROOT, _ROOT, proof)
    with pytest.raises(RootMismatchError, match="new root"):
        verify_consistency(6, 13, old_root, old_root, proof)


def test_proof_generation_rejects_out_of_range_arguments() -> None:
    with pytest.raises(InvalidSizeError):
        inclusion_proof(_TREE, 13, 13)
    with pytest.raises(InvalidSizeError, match="exceeds the 13 leaf hashes"):
        inclusion_proof(_TREE, 0, 14)
    with pytest.raises(InvalidSizeError, match="empty tree is meaningless"):
        consistency_proof(_TREE, 0, 5)
    with pytest.raises(InvalidSizeError):
        consistency_proof(_TREE, 6, 5)
    with pytest.raises(HashLengthError, match="leaf hash 1 is 3 bytes"):
        root_from_leaf_hashes([_TREE[0], b"abc"])


def test_tree_rejects_a_storage_answer_of_the_wrong_shape() -> None:
    short = MerkleTree(lambda start, end: _TREE[start : end - 1], 13)
    with pytest.raises(LeafSourceError, match=r"returned 12 hashes for range \[0, 13\)"):
        short.root()
    corrupt = MerkleTree(lambda start, end: [h[:16] for h in _TREE[start:end]], 13)
    with pytest.raises(HashLengthError, match="stored leaf hash 0 is 16 bytes"):
        corrupt.root()


# --- the storage-backed tree and its cache ---------------------------------------------------


class CountingSource:
    """A leaf hash source that counts the leaves it hands out, like rows read from SQL."""

    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.hashes = hashes
        self.leaves_read = 0

    def __call__(self, start: int, end: int) -> Sequence[bytes]:
        self.leaves_read += end - start
        return self.hashes[start:end]


_BIG = [hashlib.sha256(b"%d" % i).digest() for i in range(5000)]


def test_warm_cache_proofs_read_few_leaves_and_match_uncached_proofs() -> None:
    source = CountingSource(_BIG)
    cache: dict[tuple[int, int], bytes] = {}
    tree = MerkleTree(source, 5000, cache=cache, cache_min_level=4)
    assert tree.root() == root_from_leaf_hashes(_BIG)
    assert source.leaves_read == 5000  # a cold cache reads every leaf once
    assert all(level >= 4 for level, _ in cache)  # only subtrees of 16+ leaves are kept

    for index in (0, 1234, 4095, 4096, 4999):
        source.leaves_read = 0
        proof = tree.inclusion_proof(index)
        assert source.leaves_read < 2 * 16
        assert proof == inclusion_proof(_BIG, index, 5000)
    source.leaves_read = 0
    assert tree.consistency_proof(3001) == consistency_proof(_BIG, 3001, 5000)
    assert source.leaves_read < 2 * 16


def test_cache_is_shared_by_trees_of_growing_size() -> None:
    cache: dict[tuple[int, int], bytes] = {}
    small = MerkleTree(CountingSource(_BIG), 1000, cache=cache, cache_min_level=3)
    small_root = small.root()
    big = MerkleTree(CountingSource(_BIG), 2500, cache=cache, cache_min_level=3)
    assert big.root() == root_from_leaf_hashes(_BIG[:2500])
    assert big.consistency_proof(1000) == consistency_proof(_BIG, 1000, 2500)
    verify_consistency(1000, 2500, small_root, big.root(), big.consistency_proof(1000))
    # Every cached subtree lies inside the tree that computed it.
    assert all((index + 1) << level <= 2500 for level, index in cache)


def test_subtree_hash_of_any_range_is_its_merkle_tree_hash() -> None:
    tree = MerkleTree(lambda s, e: _BIG[s:e], 5000, cache_min_level=2)
    for start, end in [(0, 0), (3, 4), (5, 77), (1024, 2048), (1000, 4321), (0, 5000)]:
        assert tree.subtree_hash(start, end) == root_from_leaf_hashes(_BIG[start:end])
    with pytest.raises(InvalidSizeError, match="not inside the tree of size 5000"):
        tree.subtree_hash(10, 5001)


# --- properties ------------------------------------------------------------------------------


def reference_mth(hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 written out recursively, to check the iterative code against."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(hashes[:k]) + reference_mth(hashes[k:])).digest()


@st.composite
def trees(draw: st.DrawFn, min_size: int = 1) -> list[bytes]:
    size = draw(st.integers(min_value=min_size, max_value=70))
    salt = draw(st.binary(max_size=4))
    # Distinct leaves: with two equal neighbours, a proof for one also proves the other.
    return [leaf_hash(salt + b"%d" % i) for i in range(size)]


def flip_bit(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    mutable = bytearray(value)
    mutable[bit // 8] ^= 1 << (bit % 8)
    return bytes(mutable)


min_levels = st.sampled_from([1, 2, 8])


@settings(max_examples=60, deadline=None)
@given(leaves=trees(min_size=0), min_level=min_levels)
def test_roots_match_the_recursive_definition(leaves: list[bytes], min_level: int) -> None:
    tree = MerkleTree(lambda s, e: leaves[s:e], len(leaves), cache_min_level=min_level)
    assert tree.root() == root_from_leaf_hashes(leaves) == reference_mth(leaves)


@settings(max_examples=150, deadline=None)
@given(leaves=trees(), data=st.data(), min_level=min_levels)
def test_generated_inclusion_proofs_verify_and_every_corruption_fails(
    leaves: list[bytes], data: st.DataObject, min_level: int
) -> None:
    full = len(leaves)
    size = data.draw(st.integers(1, full), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    tree = MerkleTree(lambda s, e: leaves[s:e], size, cache_min_level=min_level)
    root = tree.root()
    proof = tree.inclusion_proof(index)
    verify_inclusion(index, size, leaves[index], proof, root)

    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(RootMismatchError):
        verify_inclusion(index, size, flip_bit(leaves[index], bit), proof, root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(index, size, leaves[index], proof, flip_bit(root, bit))
    if proof:
        node = data.draw(st.integers(0, len(proof) - 1), label="node")
        bad = [*proof[:node], flip_bit(proof[node], bit), *proof[node + 1 :]]
        with pytest.raises(RootMismatchError):
            verify_inclusion(index, size, leaves[index], bad, root)
        with pytest.raises(ProofLengthError):
            verify_inclusion(index, size, leaves[index], proof[:node] + proof[node + 1 :], root)
    with pytest.raises(ProofLengthError):
        verify_inclusion(index, size, leaves[index], [*proof, root], root)

    if size > 1:
        other = data.draw(st.sampled_from([i for i in range(size) if i != index]), label="other")
        with pytest.raises(MerkleError):
            verify_inclusion(other, size, leaves[index], proof, root)
    # The proof does not bind the size by itself (a (0, 3) proof has the shape of a (0, 4)
    # proof); the signed root does. So a wrong size fails against that size's own root...
    wrong_sizes = [n for n in range(index + 1, full + 1) if n != size]
    if wrong_sizes:
        wrong = data.draw(st.sampled_from(wrong_sizes), label="wrong")
        wrong_root = root_from_leaf_hashes(leaves[:wrong])
        with pytest.raises(MerkleError):
            verify_inclusion(index, wrong, leaves[index], proof, wrong_root)
    # ...and doubling or halving the size (upstream's probes) fails even with the true root.
    for changed in (size * 2, size // 2):
        with pytest.raises(MerkleError):
            verify_inclusion(index, changed, leaves[index], proof, root)


@settings(max_examples=150, deadline=None)
@given(leaves=trees(), data=st.data(), min_level=min_levels)
def test_generated_consistency_proofs_verify_and_every_corruption_fails(
    leaves: list[bytes], data: st.DataObject, min_level: int
) -> None:
    new = data.draw(st.integers(1, len(leaves)), label="new")
    old = data.draw(st.integers(1, new), label="old")
    tree = MerkleTree(lambda s, e: leaves[s:e], new, cache_min_level=min_level)
    old_root, new_root = tree.subtree_hash(0, old), tree.root()
    proof = tree.consistency_proof(old)
    verify_consistency(old, new, old_root, new_root, proof)
    if old == new:
        assert proof == []
        return

    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(RootMismatchError):
        verify_consistency(old, new, flip_bit(old_root, bit), new_root, proof)
    with pytest.raises(RootMismatchError):
        verify_consistency(old, new, old_root, flip_bit(new_root, bit), proof)
    with pytest.raises(MerkleError):
        verify_consistency(old, new, new_root, old_root, proof)
    node = data.draw(st.integers(0, len(proof) - 1), label="node")
    bad = [*proof[:node], flip_bit(proof[node], bit), *proof[node + 1 :]]
    with pytest.raises(RootMismatchError):
        verify_consistency(old, new, old_root, new_root, bad)
    with pytest.raises(ProofLengthError):
        verify_consistency(old, new, old_root, new_root, proof[:node] + proof[node + 1 :])
    with pytest.raises(ProofLengthError):
        verify_consistency(old, new, old_root, new_root, [*proof, new_root])

    # Other sizes fail, even with the true roots of those sizes.
    roots = [root_from_leaf_hashes(leaves[:n]) for n in range(len(leaves) + 1)]
    other_old = data.draw(st.sampled_from([n for n in range(1, new + 1) if n != old]))
    with pytest.raises(MerkleError):
        verify_consistency(other_old, new, roots[other_old], new_root, proof)
    other_new = data.draw(st.sampled_from([n for n in range(old, len(leaves) + 1) if n != new]))
    with pytest.raises(MerkleError):
        verify_consistency(old, other_new, old_root, roots[other_new], proof)
