"""Matching a predictions file's ids to a task's items, a million at a time.

The items' ids are hashed to 64-bit integers and sorted once per task split. A predictions file
whose ids are a permutation of the items' ids has exactly the same sorted hashes, so aligning it is
one hash pass, one integer sort and one comparison, then an exact string comparison that rules out
hash collisions. Anything else (unknown, duplicate or missing ids) returns None, and the caller
takes the exact path that names the offending line.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

_PRIME = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime
_SEED = np.uint64(0xCBF29CE484222325)


def string_hashes(ids: pa.Array) -> NDArray[np.uint64]:
    """A 64-bit hash of each string, vectorised over the array's bytes (no Python loop)."""
    ids = ids.cast(pa.large_string()) if not pa.types.is_large_string(ids.type) else ids
    offsets_buf, data_buf = ids.buffers()[1], ids.buffers()[2]
    n = len(ids)
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[ids.offset : ids.offset + n + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
        if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )
    lengths = np.diff(offsets)
    width = int(lengths.max(initial=0))
    words = -(-max(width, 1) // 8)
    if data.size == n * width:  # every id has the same length: the bytes are already a matrix
        matrix = data.reshape(n, width)
        if width != words * 8:
            matrix = np.pad(matrix, ((0, 0), (0, words * 8 - width)))
    else:  # lay the strings out as rows of a zero-padded byte matrix
        matrix = np.zeros((n, words * 8), dtype=np.uint8)
        rows = np.repeat(np.arange(n), lengths)
        cols = np.arange(data.size) - np.repeat(offsets[:-1] - offsets[0], lengths)
        matrix[rows, cols] = data
    as_words = np.ascontiguousarray(matrix).view(np.uint64)
    with np.errstate(over="ignore"):
        h = _SEED ^ lengths.astype(np.uint64)
        for k in range(words):
            mixed = (h ^ as_words[:, k]) * _PRIME
            mixed ^= mixed >> np.uint64(29)
            # a string's hash never depends on how long the other strings are
            h = mixed if k == 0 else np.where(lengths > 8 * k, mixed, h)
    return h


class IdIndex:
    """The items' ids, prepared for aligning predictions files against them."""

    def __init__(self, item_ids: pa.Array) -> None:
        self.ids = item_ids
        hashes = string_hashes(item_ids)
        self._order = np.argsort(hashes)
        self._sorted = hashes[self._order]
        # two items with the same hash: no fast alignment (the exact path still works)
        self._usable = not bool(np.any(self._sorted[1:] == self._sorted[:-1]))

    def alignment(self, ids: pa.Array) -> NDArray[np.int64] | None:
        """``order`` such that ``ids[order[i]]`` is item ``i``'s id; None unless ``ids`` is a
        permutation of the items' ids."""
        n = len(self.ids)
        if not self._usable or len(ids) != n:
            return None
        hashes = string_hashes(ids)
        by_hash = np.argsort(hashes)
        if not np.array_equal(hashes[by_hash], self._sorted):
            return None
        order = np.empty(n, dtype=np.int64)
        order[self._order] = by_hash
        if not pc.all(pc.equal(ids.take(pa.array(order)), self.ids)).as_py():
            return None  # a hash collision between different ids
        return order
