"""items.jsonl is written column-wise; its bytes must equal json.dumps line by line."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pyarrow as pa
import pytest

from palmares.engine._jsonl import json_floats, json_strings, write_jsonl

TEXTS = ["plain", 'with "quotes"', "back\\slash", "new\nline", "tab\t", "é à 日本", "", "\x01"]


def _reference(ids: list[str], preds: list[object], scores: dict[str, list[float]]) -> bytes:
    lines = []
    for i, item_id in enumerate(ids):
        s = {k: (v[i] if math.isfinite(v[i]) else None) for k, v in scores.items()}
        lines.append(json.dumps({"id": item_id, "prediction": preds[i], "scores": s},
                                ensure_ascii=False) + "\n")  # fmt: skip
    return "".join(lines).encode("utf-8")


@pytest.mark.parametrize(
    "preds",
    [
        [f"label-{i % 3}" for i in range(8)],
        TEXTS,
        [[f"d{i}", "d2"] for i in range(8)],
        [1.5, 2.0, -3.25, 0.1, 1e-7, 123456789.0, 2.0, 0.0],
    ],
    ids=["labels", "texts-needing-escapes", "rankings", "numbers"],
)
@pytest.mark.parametrize("chunk", [3, 1000])
def test_column_wise_lines_equal_json_dumps(preds: list[object], chunk: int) -> None:
    ids = [f"id-{i}" if i != 5 else 'odd "id"' for i in range(8)]
    scores = {
        "accuracy": [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0],
        "token_f1": [0.5, 1 / 3, float("nan"), 0.0, 1.0, 2 / 3, 0.25, 0.1],
    }
    pred_column = pa.array(preds) if isinstance(preds[0], str) else preds
    parts: list[str | pa.Array] = ['{"id": ', json_strings(pa.array(ids)), ', "prediction": ',
                                   json_strings(pred_column), ', "scores": {']  # fmt: skip
    for j, (name, col) in enumerate(scores.items()):
        parts += [(", " if j else "") + f'"{name}": ', json_floats(np.array(col))]
    parts.append("}}")
    out = io.BytesIO()
    write_jsonl(out, parts, len(ids), chunk=chunk)
    assert out.getvalue() == _reference(ids, preds, scores)


def test_dictionary_column_prints_each_value_once() -> None:
    column = pa.array(["b", "a", "b", "c"]).dictionary_encode()
    assert json_strings(column).to_pylist() == ['"b"', '"a"', '"b"', '"c"']
