"""Canonical content hashes: same content → same hash, whatever the order or the file layout."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

# one encoder for every call: json.dumps with options builds a new one each time
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
).encode


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no insignificant whitespace, UTF-8 kept as is."""
    return _CANONICAL(value)


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def hash_items(records: Iterable[Any]) -> str:
    """Order-independent hash of a collection of JSON-able records.

    Each record is hashed on its canonical JSON; the digests are sorted and hashed together, so
    shuffling the rows of a dataset file (or converting it from TSV to JSONL) keeps the hash, while
    any change of content, duplicated row included, changes it.
    """
    digests = sorted(hashlib.sha256(canonical_json(r).encode("utf-8")).digest() for r in records)
    h = hashlib.sha256()
    h.update(len(digests).to_bytes(8, "big"))
    for d in digests:
        h.update(d)
    return h.hexdigest()
