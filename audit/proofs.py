"""Verifying Merkle proofs of the audit log: inclusion (RFC 9162 §2.1.3.2) and consistency
(RFC 9162 §2.1.4.2), with the tree of `audit.merkle`.

Verification is strict like transparency-dev/merkle: leaf hashes and proof nodes must be 32
bytes, the proof must have exactly the length the sizes imply, a consistency proof from size 0
is an error, and a leaf index must be below the tree size. Roots are compared, not
length-checked: a root that is not 32 bytes simply fails to match a computed root (the upstream
verifier accepts two equal roots of any length when both sizes are equal, and so do we).
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.merkle import (
    InvalidSizeError,
    ProofLengthError,
    RootMismatchError,
    check_hash,
    check_proof_nodes,
    check_size,
    node_hash,
)


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof with the algorithm of RFC 9162 §2.1.3.2.

    Raises a :class:`MerkleError` subclass when the proof does not prove that the leaf with
    hash ``leaf_hash`` is at ``leaf_index`` in the tree of ``tree_size`` leaves and root ``root``.
    """
    check_size(tree_size, "tree size")
    # Step 1: leaf_index must be below tree_size.
    if not 0 <= leaf_index < tree_size:
        raise InvalidSizeError(f"leaf index {leaf_index} is not below tree size {tree_size}")
    check_hash(leaf_hash, "leaf hash")
    check_proof_nodes(proof)
    want = _inclusion_proof_length(leaf_index, tree_size)
    if len(proof) != want:
        raise ProofLengthError(
            f"inclusion proof for leaf {leaf_index} of {tree_size} has {len(proof)} nodes, "
            f"expected {want}"
        )
    # Steps 2-4.
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:  # 4a; unreachable after the length check, kept as the RFC states it
            raise ProofLengthError("inclusion proof is longer than the tree is high")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    # Step 5.
    if sn != 0:
        raise ProofLengthError("inclusion proof is shorter than the tree is high")
    if r != root:
        raise RootMismatchError("inclusion proof does not lead to the expected root hash")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check a consistency proof with the algorithm of RFC 9162 §2.1.4.2.

    Raises a :class:`MerkleError` subclass unless the tree of ``new_size`` leaves with root
    ``new_root`` is an append-only extension of the tree of ``old_size`` leaves with root
    ``old_root``. Requires ``0 < old_size <= new_size``; equal sizes need equal roots and an
    empty proof.
    """
    check_size(old_size, "old tree size")
    check_size(new_size, "new tree size")
    if new_size < old_size:
        raise InvalidSizeError(f"new tree size {new_size} is smaller than old size {old_size}")
    if old_size == 0:
        raise InvalidSizeError("a consistency proof from the empty tree is meaningless")
    check_proof_nodes(proof)
    if old_size == new_size:
        if proof:
            raise ProofLengthError("tree sizes are equal, so the proof must be empty")
        if old_root != new_root:
            raise RootMismatchError("tree sizes are equal but the roots differ")
        return
    # Step 1.
    if not proof:
        raise ProofLengthError("consistency proof is empty")
    want = _consistency_proof_length(old_size, new_size)
    if len(proof) != want:
        raise ProofLengthError(
            f"consistency proof from {old_size} to {new_size} has {len(proof)} nodes, "
            f"expected {want}"
        )
    # Step 2: a power-of-two old tree is itself a node of the new tree, so it is not sent.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Steps 3-5.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:  # 6a; unreachable after the length check, kept as the RFC states it
            raise ProofLengthError("consistency proof is longer than the tree is high")
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofLengthError("consistency proof is shorter than the tree is high")
    if fr != old_root:
        raise RootMismatchError("consistency proof does not lead to the old root hash")
    if sr != new_root:
        raise RootMismatchError("consistency proof does not lead to the new root hash")


def _inclusion_proof_length(index: int, size: int) -> int:
    # Below the level where the paths to `index` and to the last leaf meet, every level has a
    # sibling; above it only the levels where `index` is a right child do.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_proof_length(old_size: int, new_size: int) -> int:
    # The proof is the inclusion path of leaf old_size - 1 in the new tree, minus the levels
    # inside the largest perfect subtree ending at old_size, plus that subtree's root unless it
    # is the whole old tree.
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    shift = (old_size & -old_size).bit_length() - 1
    seed = 0 if old_size & (old_size - 1) == 0 else 1
    return seed + inner - shift + border
