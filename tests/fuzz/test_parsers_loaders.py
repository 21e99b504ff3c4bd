"""Dataset loaders (JSON Lines, JSON, CSV, TSV, SQuAD, the French pack's recipes and label
formats), fuzzed.

* Any bytes: the loader returns rows or raises :class:`InputError` naming the file.
* Records written by a strategy read back as the same columns (JSON Lines, JSON, CSV, TSV).
* The column-wise JSON Lines writer (``engine/_jsonl.py``) prints exactly what ``json.dumps``
  prints, line by line, for any strings and floats.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palmares.core import DatasetSpec, InputError
from palmares.engine._jsonl import json_floats, json_strings, write_jsonl
from palmares.packs.fr import loaders as fr_loaders
from palmares.tasks import loader_registry

SPEC = DatasetSpec(path="x", format="jsonl")
FORMATS = ("jsonl", "json", "csv", "tsv", "squad", "okapi", "rte3-fr", "allocine", "calcul-fr")
chars = st.characters(exclude_categories=("Cs",))
texts = st.text(chars, max_size=10)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def _load(fmt: str, path: Path) -> Any:
    return loader_registry().get(fmt)(str(path), SPEC)


def _near_valid(fmt: str) -> st.SearchStrategy[bytes]:
    """Documents of the format's general shape with random content."""
    if fmt in ("jsonl",):
        return st.lists(json_values, max_size=4).map(
            lambda rs: "".join(json.dumps(r) + "\n" for r in rs).encode()
        )
    if fmt == "squad":
        qa = st.fixed_dictionaries(
            {"id": json_values, "question": json_values}, optional={"answers": json_values}
        )
        para = st.fixed_dictionaries(
            {"context": json_values, "qas": st.lists(qa, max_size=2) | json_values}
        )
        art = st.fixed_dictionaries(
            {"paragraphs": st.lists(para, max_size=2) | json_values},
            optional={"title": json_values},
        )
        doc = st.fixed_dictionaries({"data": st.lists(art, max_size=2) | json_values})
        return (doc | json_values).map(lambda d: json.dumps(d).encode())
    if fmt == "calcul-fr":
        recipe = st.fixed_dictionaries(
            {"seed": st.integers(-2, 10**30) | json_values, "n": st.integers(-1, 30) | json_values},
            optional={
                "exclude": st.sampled_from(
                    ["other.json", "recipe.json", "", "../x", "a\x00b", "é" * 300]
                )
                | json_values
            },
        )
        return (recipe | json_values).map(lambda d: json.dumps(d).encode())
    if fmt in ("json", "okapi"):
        rec = st.fixed_dictionaries(
            {}, optional={"id": json_values, "answer": json_values, "instruction": json_values}
        )
        return st.lists(rec | json_values, max_size=4).map(lambda d: json.dumps(d).encode())
    sep = "\t" if fmt in ("tsv", "rte3-fr") else ","
    cells = st.text(st.sampled_from(list('ab1 ,\t"\r\n\x00é')), max_size=5)
    rows = st.lists(st.lists(cells, min_size=1, max_size=4), max_size=5)
    header = st.sampled_from([["id", "label"], ["label"], ["id", "id"], ["a", "b", "c"]])
    return st.tuples(header, rows).map(
        lambda hr: "\n".join(sep.join(r) for r in [hr[0], *hr[1]]).encode()
    )


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=50)  # x 9 formats
@given(data=st.data())
def test_any_bytes_give_rows_or_an_input_error_naming_the_file(
    tmp_path: Path, fmt: str, data: st.DataObject
) -> None:
    raw = data.draw(st.binary(max_size=200) | _near_valid(fmt))
    path = tmp_path / "recipe.json"
    path.write_bytes(raw)
    (tmp_path / "other.json").write_text('{"seed": 1, "n": 2}')
    try:
        rows = _load(fmt, path)
    except InputError as exc:
        assert exc.file is not None and exc.file.startswith(str(tmp_path)), exc
    else:
        assert all(len(col) == rows.n for col in rows.columns.values())


# --- valid files round-trip ---------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@st.composite
def tables(
    draw: st.DrawFn, values: st.SearchStrategy[Any], min_columns: int = 1
) -> dict[str, list[Any]]:
    columns = draw(st.lists(names, min_size=min_columns, max_size=4, unique=True))
    n = draw(st.integers(1, 6))
    return {c: [draw(values) for _ in range(n)] for c in columns}


def _records(table: dict[str, list[Any]]) -> list[dict[str, Any]]:
    n = len(next(iter(table.values())))
    return [{c: v[i] for c, v in table.items()} for i in range(n)]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@settings(max_examples=75)
@given(table=tables(json_values))
def test_json_records_read_back_as_written(tmp_path: Path, fmt: str, table: dict[str, Any]) -> None:
    records = _records(table)
    path = tmp_path / f"d.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    else:
        path.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
    rows = _load(fmt, path)
    assert rows.n == len(records) and rows.columns == table
    if fmt == "jsonl":
        assert rows.lines == list(range(1, len(records) + 1))


# CSV cells: any text but NUL and lone CRs (pyarrow and csv disagree on those, and datasets
# have none); TSV cells: no tab, no newline, no quote (TSV is read without quoting)
csv_cells = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r"), max_size=8
)
tsv_cells = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters='\x00\r\n\t"'), max_size=8
)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@settings(max_examples=75)
@given(data=st.data())
def test_delimited_rows_read_back_as_written(tmp_path: Path, fmt: str, data: st.DataObject) -> None:
    # two columns at least: a row of one empty cell would be a blank line, which is skipped
    table = data.draw(tables(csv_cells if fmt == "csv" else tsv_cells, min_columns=2))
    sep = "," if fmt == "csv" else "\t"
    out = io.StringIO()
    quoting = csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE
    writer = csv.writer(out, delimiter=sep, lineterminator="\n", quoting=quoting, escapechar=None)
    writer.writerow(list(table))
    for rec in _records(table):
        writer.writerow([rec[c] for c in table])
    path = tmp_path / f"d.{fmt}"
    path.write_text(out.getvalue(), "utf-8")
    rows = _load(fmt, path)
    assert rows.columns == table and rows.n == len(_records(table))


# --- the recipe reader --------------------------------------------------------------------------


@given(seed=st.integers(0, 10**40), n=st.integers(1, 20))
def test_recipes_generate_the_same_items_every_time(tmp_path: Path, seed: int, n: int) -> None:
    path = tmp_path / "test.json"
    path.write_text(json.dumps({"seed": seed, "n": n}))
    assert fr_loaders.read_recipe(str(path)) == (seed, n, None)
    first = _load("dates-fr", path)
    assert first.n == n and first.columns == _load("dates-fr", path).columns


# --- the column-wise JSON Lines writer ----------------------------------------------------------


@given(
    strings=st.lists(texts, min_size=1, max_size=8),
    floats=st.lists(st.floats(), min_size=1, max_size=8),
    chunk=st.integers(1, 5),
)
def test_column_wise_json_lines_equal_json_dumps(
    strings: list[str], floats: list[float], chunk: int
) -> None:
    n = min(len(strings), len(floats))
    strings, floats = strings[:n], floats[:n]
    parts: list[str | pa.Array] = [
        '{"s": ',
        json_strings(pa.array(strings, pa.string())),
        ', "f": ',
        json_floats(np.array(floats, dtype=np.float64)),
        "}",
    ]
    out = io.BytesIO()
    write_jsonl(out, parts, n, chunk=chunk)
    expected = "".join(
        json.dumps({"s": s, "f": f if math.isfinite(f) else None}, ensure_ascii=False) + "\n"
        for s, f in zip(strings, floats, strict=True)
    )
    assert out.getvalue() == expected.encode("utf-8")
    assert [json.loads(line)["s"] for line in out.getvalue().decode().split("\n")[:-1]] == strings


# --- nesting bombs (regressions found by fuzzing) -----------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "json", "squad", "calcul-fr"])
def test_deeply_nested_json_is_an_input_error(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "recipe.json"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InputError, match="nested too deeply") as exc:
        _load(fmt, path)
    assert exc.value.file == str(path)
