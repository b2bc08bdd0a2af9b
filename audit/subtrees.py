"""Perfect subtrees of the audit tree (RFC 9162 §2.1.1), hashed level by level, in one pass
or in consecutive parts that are joined.

A perfect subtree of height ``h`` at index ``i`` covers leaves ``[i * 2**h, (i + 1) * 2**h)``;
these are the entries of `audit.merkle`'s :data:`SubtreeCache`. Full verification hashes them
in parts: each range process of `kluis audit verify --workers N` hashes its range's, and the
verifying process joins them (`joined_subtrees`).

Standard library only, and importable on its own: `audit/ranges.py`, run as a script, loads
this file by its path, without the `audit` package (which imports the whole service). Keep it
so; a range process that cannot load it fails, and verification falls back to one process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

__all__ = ["BlockHasher", "joined_subtrees", "perfect_levels", "perfect_subtrees"]

_NODE_PREFIX = b"\x01"  # RFC 9162 §2.1.1: SHA-256(0x01 || left || right)


def perfect_levels(nodes: Sequence[bytes], levels: int | None = None) -> list[list[bytes]]:
    """``nodes`` (one level of perfect subtrees, in order, from index 0 of a part that starts
    on a whole block) hashed ``levels`` levels up, or while more than one node is left (None):
    item ``k`` holds the nodes ``k + 1`` levels above, ``len(nodes) >> (k + 1)`` of them (an
    odd last node waits for a sibling that is not there yet)."""
    out: list[list[bytes]] = []
    sha256, prefix = hashlib.sha256, _NODE_PREFIX
    level = nodes
    while len(level) > 1 if levels is None else len(out) < levels:
        pairs = iter(level)  # one iterator twice: each node with the next
        level = [
            sha256(prefix + left + right).digest()
            for left, right in zip(pairs, pairs, strict=False)
        ]
        out.append(level)
    return out


def perfect_subtrees(leaf_hashes: Sequence[bytes], min_level: int) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree of ``2**min_level`` leaves or more over ``leaf_hashes`` (32-byte
    hashes, already checked), keyed by ``(height, index)``: one pass, level by level."""
    return joined_subtrees([{0: leaf_hashes}], 0, min_level)


def joined_subtrees(
    parts: Sequence[Mapping[int, Sequence[bytes]]], top: int, min_level: int
) -> dict[tuple[int, int], bytes]:
    """``perfect_subtrees`` of leaves that come in consecutive parts, each hashed up to height
    ``top`` on its own (by another process, say): ``part[0]`` holds its leaves and
    ``part[h]`` its ``perfect_levels`` at height ``h`` for every ``h`` from
    ``min(min_level, top)`` to ``top``. Every part but the last must hold a whole number of
    ``2**top`` leaves, so that its subtrees are the whole tree's (ValueError otherwise); each
    part is placed by the leaves of the parts before it."""
    cache: dict[tuple[int, int], bytes] = {}
    joined: list[bytes] = []  # the parts' nodes at height `top`, in order
    start = 0
    for k, part in enumerate(parts):
        count = len(part[0])
        if k < len(parts) - 1 and count % (1 << top):
            raise ValueError(f"part {k} holds {count} leaves, not whole blocks of 2**{top}")
        for height in range(min(min_level, top), top + 1):
            if len(part[height]) != count >> height:
                raise ValueError(f"part {k} has {len(part[height])} nodes at height {height}")
            if height >= max(min_level, 1):
                base = start >> height
                cache.update(((height, base + i), h) for i, h in enumerate(part[height]))
        joined.extend(part[top])
        start += count
    for height, level in enumerate(perfect_levels(joined), start=top + 1):
        if height >= min_level:
            cache.update(((height, index), h) for index, h in enumerate(level))
    return cache


class BlockHasher:
    """``perfect_levels(leaves, top)`` of a list of leaves that grows while it is hashed: whole
    blocks of ``2**top`` leaves at a time (``step``, when there is time to spare, e.g. while
    the next rows are read), the rest at the end (``finish``, once). Keeps the heights from
    ``low`` up (1 at least). Every call must get the same list, which starts on a whole block
    and is only ever appended to."""

    def __init__(self, top: int, low: int = 1) -> None:
        self.top, self.low = top, max(low, 1)
        self.done = 0  # leaves hashed so far, whole blocks
        self.finished = False
        self.levels: list[list[bytes]] = [[] for _ in range(top)]

    def _hash(self, leaves: Sequence[bytes]) -> None:
        for height, nodes in enumerate(perfect_levels(leaves, self.top), start=1):
            if height >= self.low:
                self.levels[height - 1] += nodes

    def step(self, leaves: Sequence[bytes]) -> bool:
        """Hash the next whole block of ``leaves``, if there is one; whether there was."""
        assert not self.finished and len(leaves) >= self.done, "not the list hashed so far"
        end = self.done + (1 << self.top)
        if not self.top or len(leaves) < end:
            return False
        self._hash(leaves[self.done : end])
        self.done = end
        return True

    def finish(self, leaves: Sequence[bytes]) -> dict[int, list[bytes]]:
        """Every level of all of ``leaves``, by height (``low`` to ``top``)."""
        while self.step(leaves):
            pass
        if self.top:
            self._hash(leaves[self.done :])
        self.finished = True
        return {h: self.levels[h - 1] for h in range(self.low, self.top + 1)}
