"""Writing JSON Lines column-wise: a million ``items.jsonl`` lines without a million json.dumps.

Each column becomes an array of JSON texts (strings quoted, numbers printed once per distinct
value), and pyarrow joins the columns into lines. The bytes are exactly what ``json.dumps(...,
ensure_ascii=False)`` would write line by line; values pyarrow cannot print that way (lists,
strings that need escapes) go through ``json.dumps`` one by one (``tasks/_json_columns.py``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from palmares.tasks._json_columns import joined_lines, json_texts, text_spans

_encode = json.JSONEncoder(ensure_ascii=False).encode


def json_strings(values: pa.Array | Sequence[Any]) -> pa.Array:
    """JSON texts of a column of values (strings, numbers, lists), as ``json.dumps`` prints."""
    return json_texts(values, _encode)


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
        data, spans = text_spans(joined_lines([*parts, "\n"], start, chunk))
        fh.write(data[spans[0] : spans[-1]])
