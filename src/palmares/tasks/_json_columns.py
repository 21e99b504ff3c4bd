"""JSON texts of whole columns at once (pyarrow string kernels), for hashing and for writing.

A column of plain strings (nothing to escape) is quoted by one vectorised join; anything else
(numbers, lists, objects, strings with quotes or control characters) goes through the given
encoder value by value, so the texts are exactly what that encoder prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def json_texts(values: pa.Array | Sequence[Any], encode: Callable[[Any], str]) -> pa.Array:
    """One JSON text per value, as ``encode`` (a ``json.JSONEncoder(...).encode``) prints it."""
    array = values if isinstance(values, pa.Array) else None
    if array is None and all(isinstance(v, str) for v in values):
        array = pa.array(values, type=pa.string())
    if array is not None and pa.types.is_dictionary(array.type):
        # print each distinct value once, then spread by the codes
        return json_texts(array.dictionary, encode).take(array.indices)
    if (
        array is not None
        and pa.types.is_string(array.type)
        and array.null_count == 0
        and not pc.any(pc.match_substring_regex(array, _NEEDS_ESCAPE)).as_py()
    ):
        return pc.binary_join_element_wise('"', array, '"', "")
    plain = array.to_pylist() if array is not None else values
    return pa.array([encode(v) for v in plain], type=pa.string())


def joined_lines(parts: list[str | pa.Array], start: int, length: int) -> pa.Array:
    """Rows ``start … start + length`` of the concatenation of ``parts`` (texts and columns)."""
    row = [p.slice(start, length) if isinstance(p, pa.Array) else p for p in parts]
    lines = pc.binary_join_element_wise(*row, "")
    return lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines


def text_spans(lines: pa.Array) -> tuple[memoryview, list[int]]:
    """The UTF-8 bytes of a string array and the ``len + 1`` offsets of its values in them."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    spans = offsets[lines.offset : lines.offset + len(lines) + 1].tolist()
    return memoryview(lines.buffers()[2]), spans
