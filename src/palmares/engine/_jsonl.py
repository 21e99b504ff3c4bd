"""Writing JSON Lines column-wise: a million ``items.jsonl`` lines without a million json.dumps.

Each column becomes an array of JSON texts (strings quoted, numbers printed once per distinct
value), and pyarrow joins the columns into lines. The bytes are exactly what ``json.dumps(...,
ensure_ascii=False)`` would write line by line; values pyarrow cannot print that way (lists,
strings that need escapes) go through ``json.dumps`` one by one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _one_by_one(values: Sequence[Any]) -> pa.Array:
    return pa.array([_encode(v) for v in values], type=pa.string())


def json_strings(values: pa.Array | Sequence[Any]) -> pa.Array:
    """JSON texts of a column of values (strings, numbers, lists)."""
    array = values if isinstance(values, pa.Array) else None
    if array is not None and pa.types.is_dictionary(array.type):
        # print each distinct value once, then spread by the codes
        return json_strings(array.dictionary).take(array.indices)
    if (
        array is not None
        and pa.types.is_string(array.type)
        and array.null_count == 0
        and not pc.any(pc.match_substring_regex(array, _NEEDS_ESCAPE)).as_py()
    ):
        return pc.binary_join_element_wise('"', array, '"', "")
    return _one_by_one(array.to_pylist() if array is not None else values)


def json_floats(values: NDArray[np.float64]) -> pa.Array:
    """JSON texts of floats (non-finite → null), as ``json.dumps`` prints them."""
    distinct, codes = np.unique(values, return_inverse=True)
    texts = pa.array(
        [repr(x) if math.isfinite(x) else "null" for x in distinct.tolist()], type=pa.string()
    )
    return texts.take(pa.array(codes.ravel()))


def write_jsonl(fh: BinaryIO, parts: list[str | pa.Array], n: int, chunk: int = 200_000) -> None:
    """Write ``n`` lines, each the concatenation of ``parts`` (literal texts and JSON columns)."""
    for start in range(0, n, chunk):
        row = [p.slice(start, chunk) if isinstance(p, pa.Array) else p for p in parts]
        lines = pc.binary_join_element_wise(*row, "\n", "")
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
        first, last = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
        fh.write(memoryview(lines.buffers()[2])[first:last])
