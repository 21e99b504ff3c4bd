"""Matching a predictions file's ids to a task's items, a million at a time.

The items' ids are hashed to 64-bit integers and sorted once per task split. A predictions file
whose ids are a permutation of the items' ids has exactly the same sorted hashes, so aligning it is
one hash pass, one integer sort and one comparison, then an exact byte comparison that rules out
hash collisions (the hash is fast, not cryptographic, and ids come from participants). Anything
else (unknown, duplicate or missing ids) returns None, and the caller takes the exact path that
names the offending line.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

_PRIME = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime
_SEED = np.uint64(0xCBF29CE484222325)
_MAX_MATRIX_BYTES = 64 << 20  # one very long id must not blow up the padded byte matrix

ByteMatrix = tuple[NDArray[np.uint8], NDArray[np.int64]]  # (n, 8·words) zero-padded, lengths


def _byte_matrix(ids: pa.Array) -> ByteMatrix | None:
    """The strings' UTF-8 bytes as rows of a zero-padded matrix (None if it would be too big)."""
    if not pa.types.is_large_string(ids.type):
        ids = ids.cast(pa.large_string())
    n = len(ids)
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int64)[ids.offset : ids.offset + n + 1]
    lengths = np.diff(offsets)
    width = int(lengths.max(initial=0))
    words = -(-max(width, 1) // 8)
    if n * words * 8 > _MAX_MATRIX_BYTES:
        return None
    data_buf = ids.buffers()[2]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
        if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )
    if data.size == n * width:  # every id has the same length: the bytes already are a matrix
        matrix = data.reshape(n, width)
        if width != words * 8:
            matrix = np.pad(matrix, ((0, 0), (0, words * 8 - width)))
    else:
        matrix = np.zeros((n, words * 8), dtype=np.uint8)
        rows = np.repeat(np.arange(n), lengths)
        cols = np.arange(data.size) - np.repeat(offsets[:-1] - offsets[0], lengths)
        matrix[rows, cols] = data
    return np.ascontiguousarray(matrix), lengths


def _hash_matrix(matrix: NDArray[np.uint8], lengths: NDArray[np.int64]) -> NDArray[np.uint64]:
    as_words = matrix.view(np.uint64)
    with np.errstate(over="ignore"):
        h = _SEED ^ lengths.astype(np.uint64)
        for k in range(as_words.shape[1]):
            mixed = (h ^ as_words[:, k]) * _PRIME
            mixed ^= mixed >> np.uint64(29)
            # a string's hash never depends on how long the other strings are
            h = mixed if k == 0 else np.where(lengths > 8 * k, mixed, h)
    return h


def _hashed(ids: pa.Array) -> tuple[ByteMatrix | None, NDArray[np.uint64]]:
    """The ids' byte matrix (kept for the exact comparison) and their 64-bit hashes."""
    bm = _byte_matrix(ids)
    if bm is None:  # a rare, very long id: Python's own string hash, one by one
        values = (hash(s) for s in ids.to_pylist())
        return None, np.fromiter(values, dtype=np.int64, count=len(ids)).view(np.uint64)
    return bm, _hash_matrix(*bm)


def string_hashes(ids: pa.Array) -> NDArray[np.uint64]:
    """A 64-bit hash of each string, vectorised over the array's bytes (no Python loop)."""
    return _hashed(ids)[1]


class IdIndex:
    """The items' ids, prepared for aligning predictions files against them."""

    def __init__(self, item_ids: pa.Array) -> None:
        self.ids = item_ids
        self._bytes, hashes = _hashed(item_ids)
        self._order = np.argsort(hashes)
        self._sorted = hashes[self._order]
        # two items with the same hash: no fast alignment (the exact path still works)
        self._usable = not bool(np.any(self._sorted[1:] == self._sorted[:-1]))

    def alignment(self, ids: pa.Array) -> NDArray[np.int64] | None:
        """``order`` such that ``ids[order[i]]`` is item ``i``'s id; None unless ``ids`` is a
        permutation of the items' ids."""
        n = len(self.ids)
        if len(ids) != n:
            return None
        if ids.equals(self.ids):
            return np.arange(n)  # already in item order
        if not self._usable:
            return None
        bm, hashes = _hashed(ids)
        by_hash = np.argsort(hashes)
        if not np.array_equal(hashes[by_hash], self._sorted):
            return None
        order = np.empty(n, dtype=np.int64)
        order[self._order] = by_hash
        if bm is not None and self._bytes is not None and bm[0].shape == self._bytes[0].shape:
            # compare 8-byte words column by column: gathers of contiguous uint64 are fast
            mine, theirs = bm[0].view(np.uint64), self._bytes[0].view(np.uint64)
            same = np.array_equal(bm[1][order], self._bytes[1]) and all(
                np.array_equal(mine[:, k][order], theirs[:, k]) for k in range(mine.shape[1])
            )
        else:
            same = bool(pc.all(pc.equal(ids.take(pa.array(order)), self.ids)).as_py())
        return order if same else None  # not the same: a hash collision between different ids
