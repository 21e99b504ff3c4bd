"""Content hashes are part of every result: their definition must not drift silently."""

from __future__ import annotations

import hashlib
from pathlib import Path

from palmares import load_task
from palmares.core import canonical_json, hash_items

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "palmares" / "examples" / "avis-fr"


def test_hash_items_hand_worked() -> None:
    # two records; digests of their canonical JSON, sorted, prefixed by the count (8 bytes)
    records = [{"b": "é", "a": 1}, {"a": 2}]
    assert canonical_json(records[0]) == '{"a":1,"b":"é"}'
    digests = sorted(hashlib.sha256(canonical_json(r).encode()).digest() for r in records)
    expected = hashlib.sha256((2).to_bytes(8, "big") + b"".join(digests)).hexdigest()
    assert hash_items(records) == expected
    assert hash_items(reversed(records)) == expected
    assert hash_items([*records, records[0]]) != expected  # a duplicated item counts


def test_example_task_hashes_are_pinned() -> None:
    """Changing these values means every stored result's provenance changes: do it on purpose,
    with a note in the changelog, never as a side effect."""
    task = load_task(EXAMPLE / "task.yaml")
    assert task.dataset_hash() == "019373488d12b81b78e4289130ce2e314b00ad0c12b6dfd3dde2efce64eac97b"
    assert task.hash == "1a06fd50d994574a9872e128a40eeffd8d4b93dc52016e6b9021f6ddd6b296b5"


def test_column_wise_hash_equals_the_definition() -> None:
    """tasks/_items_hash.py computes core.hash_items over ItemSet.record(i), column-wise."""
    from palmares.core import ItemSet
    from palmares.tasks._items_hash import items_hash

    ids = ["a", 'b"q', "c\\d", "é日本", "tab\there", "new\nline"]
    items = ItemSet(
        ids=ids,
        inputs={
            "text": ["x", "y", 'say "hi"', "", "z", "\x01ctl"],
            "choices": [["A", "B"], [], ["é"], ["1"], ["x", "y", "z"], ["q"]],
            "n": [1, 2, 3, 4, 5, 6],
            "meta": [{"b": 1, "a": [1, 2]}, None, {}, {"k": "v"}, {"z": 0.5}, {"a": True}],
        },
        references=["ok", 1, 2.5, ["a", "b"], {"x": 1}, "fin"],
        slices={"domaine": ["f", "f", "g", "g", "h", "(missing)"]},
        groups=["g1", "g1", "g2", "g2", "g3", "g3"],
    )
    expected = hash_items(items.record(i) for i in range(len(items)))
    assert items_hash(items) == expected
    plain = ItemSet(ids=ids, inputs={"t": ids}, references=ids)
    assert items_hash(plain) == hash_items(plain.record(i) for i in range(len(plain)))
