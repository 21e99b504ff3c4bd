"""The dataset content hash, computed column-wise.

It has exactly the value of ``core.hash_items`` over ``ItemSet.record(i)`` (the definition, kept
in the pure core and pinned by tests), but builds the canonical JSON of every item with pyarrow
string kernels instead of one ``json.dumps`` per item: a million items hash in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from itertools import pairwise

import pyarrow as pa

from palmares.core import ItemSet, canonical_json
from palmares.tasks._json_columns import joined_lines, json_texts, text_spans

_CHUNK = 200_000


def _key(name: str) -> str:
    return canonical_json(name) + ":"


def _object(fields: Mapping[str, Sequence[object]]) -> list[str | pa.Array]:
    """Parts of a canonical JSON object whose values are columns (keys sorted)."""
    parts: list[str | pa.Array] = []
    for j, name in enumerate(sorted(fields)):
        parts += [("," if j else "") + _key(name), json_texts(fields[name], canonical_json)]
    return ["{", *parts, "}"]


def items_hash(items: ItemSet) -> str:
    record: dict[str, list[str | pa.Array]] = {
        "id": [json_texts(items.ids, canonical_json)],
        "inputs": _object(items.inputs),
        "reference": [json_texts(items.references, canonical_json)],
    }
    if items.slices:
        record["slices"] = _object(items.slices)
    if items.groups is not None:
        record["group"] = [json_texts(items.groups, canonical_json)]
    parts: list[str | pa.Array] = ["{"]
    for j, key in enumerate(sorted(record)):
        parts += [("," if j else "") + _key(key), *record[key]]
    parts.append("}")
    digests: list[bytes] = []
    for start in range(0, len(items), _CHUNK):
        data, spans = text_spans(joined_lines(parts, start, _CHUNK))
        digests += [hashlib.sha256(data[a:b]).digest() for a, b in pairwise(spans)]
    digests.sort()
    h = hashlib.sha256()
    h.update(len(digests).to_bytes(8, "big"))
    h.update(b"".join(digests))
    return h.hexdigest()
