"""Predictions files (JSON Lines, CSV, TSV), fuzzed.

* Any bytes, under any of the three names and for any value kind: :func:`read_predictions`
  returns predictions or raises :class:`InputError` naming the file, nothing else.
* A valid file generated from records (ids in any order, every value kind, BOM and CRLF or
  not) reads back as exactly those records, aligned on the items.
* The pyarrow fast path never accepts a file the exact path refuses, and when both accept one
  they give the same values (on valid files and on mutated ones).
"""

from __future__ import annotations

import csv
import io
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from palmares.core import InputError, ItemSet, ValueKind, label_text, sha256_hex
from palmares.tasks import IdIndex, read_predictions
from palmares.tasks import _fast_path as fp
from palmares.tasks import predictions as pr

SUFFIXES = (".jsonl", ".csv", ".tsv")
KINDS = (ValueKind.LABEL, ValueKind.TEXT, ValueKind.NUMBER, ValueKind.RANKING)
ALL_KINDS = (*KINDS, ValueKind.CHOICE, ValueKind.PAIR)

# text a file can hold: any character but lone surrogates (not encodable as UTF-8)
chars = st.characters(exclude_categories=("Cs",))
texts = st.text(chars, max_size=12)
# ids: non-empty, no surrounding blanks in CSV (a row of blank cells is skipped, as a blank line)
ids = st.text(chars, min_size=1, max_size=8).filter(lambda s: s.strip() == s and s != "")
finite = st.floats(allow_nan=False, allow_infinity=False)


def _items(item_ids: list[str]) -> ItemSet:
    return ItemSet(ids=item_ids, inputs={}, references=[None] * len(item_ids), source="items")


ITEMS = _items(["a", "b", "c", "1", "é"])


def _read(tmp: Path, name: str, raw: bytes, items: ItemSet, kind: ValueKind) -> Any:
    path = tmp / name
    path.write_bytes(raw)
    return read_predictions(path, items, kind)


def _values(pred: Any) -> list[Any]:
    values = pred.values
    return values.to_pylist() if isinstance(values, pa.Array) else list(values)


# --- any bytes ----------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | finite | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
# records near the valid shape, so that the checks behind the JSON syntax are reached
near_records = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "1", "é", "zz", ""]) | json_values},
    optional={"prediction": json_values, "probabilities": json_values, "x": json_values},
)


@st.composite
def hostile_files(draw: st.DrawFn, suffix: str) -> bytes:
    """Random bytes, or a near-valid document with random damage."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    rows = draw(st.lists(near_records, max_size=6))
    if suffix == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=draw(st.booleans())) + "\n" for r in rows)
    else:
        sep = "," if suffix == ".csv" else "\t"
        header = draw(
            st.sampled_from(
                [
                    ["id", "prediction"],
                    ["id", "prediction", "probabilities.x"],
                    ["id"],
                    ["prediction", "id", "id"],
                ]
            )
        )
        out = io.StringIO()
        writer = csv.writer(
            out, delimiter=sep, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
        )
        writer.writerow(header)
        for r in rows:
            writer.writerow([str(r.get(h.split(".")[0], "")) for h in header])
        text = out.getvalue()
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and raw:  # damage: overwrite, cut or insert bytes somewhere
        at = draw(st.integers(0, len(raw) - 1))
        junk = draw(st.binary(min_size=1, max_size=4))
        raw = draw(
            st.sampled_from([raw[:at] + junk + raw[at + 1 :], raw[:at], raw[:at] + junk + raw[at:]])
        )
    return raw


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(max_examples=60)  # x 3 formats
@given(data=st.data(), kind=st.sampled_from(ALL_KINDS))
def test_any_bytes_give_predictions_or_an_input_error_naming_the_file(
    tmp_path: Path, suffix: str, data: st.DataObject, kind: ValueKind
) -> None:
    raw = data.draw(hostile_files(suffix))
    try:
        pred = _read(tmp_path, "p" + suffix, raw, ITEMS, kind)
    except InputError as exc:
        assert exc.file == str(tmp_path / ("p" + suffix)), exc
        assert exc.problem
    else:
        assert len(_values(pred)) == len(ITEMS)
        assert pred.digest == sha256_hex(raw)


# --- valid files round-trip ---------------------------------------------------------------------


def _value(kind: ValueKind, suffix: str) -> st.SearchStrategy[Any]:
    if kind is ValueKind.LABEL:
        labels = st.text(chars, min_size=1, max_size=8)
        if suffix != ".jsonl":  # a CSV cell is text; a blank one would make a blank row possible
            return labels.filter(lambda s: s.strip() != "")
        return labels | st.integers(-(10**12), 10**12) | st.booleans()
    if kind is ValueKind.TEXT:
        return texts
    if kind is ValueKind.NUMBER:
        return finite | st.integers(-(10**15), 10**15)
    # rankings: in CSV, ids separated by blanks, so ids without blanks
    doc = st.text(
        st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=5
    )
    return st.lists(doc, max_size=4)


def _expected(kind: ValueKind, value: Any) -> Any:
    if kind is ValueKind.LABEL:
        return label_text(value)
    if kind is ValueKind.NUMBER:
        return float(value)
    if kind is ValueKind.RANKING:
        return [str(v) for v in value]
    return value


def _write(suffix: str, rows: list[tuple[str, Any]], kind: ValueKind, bom: bool, eol: str) -> bytes:
    if suffix == ".jsonl":
        text = "".join(
            json.dumps({"id": i, "prediction": v}, ensure_ascii=False) + eol for i, v in rows
        )
    else:
        out = io.StringIO()
        sep = "," if suffix == ".csv" else "\t"
        # a lone CR in a field is quoted only if the line ends are CRLF: quote everything then
        bare_cr = eol == "\n" and any("\r" in str(x) for row in rows for x in row)
        quoting = csv.QUOTE_ALL if bare_cr else csv.QUOTE_MINIMAL
        writer = csv.writer(out, delimiter=sep, lineterminator=eol, quoting=quoting)
        writer.writerow(["id", "prediction"])
        for i, v in rows:
            cell = {ValueKind.RANKING: " ".join, ValueKind.NUMBER: repr}.get(kind, str)(v)
            writer.writerow([i, cell])
        text = out.getvalue()
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


@st.composite
def valid_files(draw: st.DrawFn, suffix: str, kind: ValueKind) -> tuple[ItemSet, bytes, list[Any]]:
    item_ids = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    values = [draw(_value(kind, suffix)) for _ in item_ids]
    order = draw(st.permutations(range(len(item_ids))))
    rows = [(item_ids[i], values[i]) for i in order]
    raw = _write(suffix, rows, kind, draw(st.booleans()), draw(st.sampled_from(["\n", "\r\n"])))
    return _items(item_ids), raw, [_expected(kind, v) for v in values]


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", KINDS, ids=[k.value for k in KINDS])
@settings(max_examples=40)  # x 12 cases
@given(data=st.data())
def test_valid_files_read_back_as_written(
    tmp_path: Path, suffix: str, kind: ValueKind, data: st.DataObject
) -> None:
    items, raw, expected = data.draw(valid_files(suffix, kind))
    pred = _read(tmp_path, "p" + suffix, raw, items, kind)
    assert _values(pred) == expected
    assert pred.digest == sha256_hex(raw)


# --- the two paths agree ------------------------------------------------------------------------


def _fast(raw: bytes, suffix: str, items: ItemSet, kind: ValueKind) -> pa.Array | None:
    index = IdIndex(pa.array(items.ids, type=pa.string()))
    buf = pa.py_buffer(raw)
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = fp.SecondCore(buf, pool)
        if suffix == ".jsonl":
            return fp.fast_jsonl(buf, second, index, kind)
        return fp.fast_delimited(buf, second, "," if suffix == ".csv" else "\t", index, kind)


def _exact(raw: bytes, suffix: str, items: ItemSet, kind: ValueKind) -> list[Any]:
    if suffix == ".jsonl":
        records = pr._exact_jsonl(raw, "p", kind)
    else:
        records = pr._exact_delimited(raw, "," if suffix == ".csv" else "\t", "p", kind)
    return list(pr._align(records, items, "p", "").values)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", KINDS, ids=[k.value for k in KINDS])
@settings(max_examples=40)  # x 12 cases
@given(data=st.data())
def test_fast_path_accepts_only_what_the_exact_path_accepts_and_agrees(
    suffix: str, kind: ValueKind, data: st.DataObject
) -> None:
    items, raw, _ = data.draw(valid_files(suffix, kind))
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(raw)))
        raw = raw[:at] + data.draw(st.binary(min_size=1, max_size=3)) + raw[at:]
    assume(fp.is_blank(pa.py_buffer(raw)) is False)
    fast = _fast(raw, suffix, items, kind)
    if fast is None:
        return
    exact = _exact(raw, suffix, items, kind)  # must not raise: the fast path accepted the file
    assert fast.to_pylist() == exact


# regressions found by fuzzing: each once crashed or made the two paths disagree
REGRESSIONS = [
    ("p.csv", b"\x80d,prediction\na,1\n", ValueKind.NUMBER, 1),  # header not UTF-8 (crashed)
    ("p.jsonl", b'{"\x80id": "a", "prediction": 1}\n', ValueKind.NUMBER, 1),  # key not UTF-8
    ("p.tsv", b"\xef\xbb\xbf\xef\xbb\xbfid\tprediction\na\t1\n", ValueKind.NUMBER, 1),  # 2 BOMs
    ("p.jsonl", b'{"id": "a", "prediction": NaN}\n', ValueKind.NUMBER, 1),
    ("p.csv", b"id,prediction\na,inf\n", ValueKind.NUMBER, 2),
]


@pytest.mark.parametrize(("name", "raw", "kind", "line"), REGRESSIONS)
def test_files_that_once_crashed_are_input_errors(
    tmp_path: Path, name: str, raw: bytes, kind: ValueKind, line: int
) -> None:
    items = _items(["a"])
    with pytest.raises(InputError) as exc:
        _read(tmp_path, name, raw, items, kind)
    assert exc.value.line == line
    assert _fast(raw, Path(name).suffix, items, kind) is None


def test_blank_rankings_read_the_same_on_both_paths(tmp_path: Path) -> None:
    raw = b"id,prediction\na, d1  d2 \nb,\n"
    items = _items(["a", "b"])
    assert _values(_read(tmp_path, "p.csv", raw, items, ValueKind.RANKING)) == [["d1", "d2"], []]
    assert _fast(raw, ".csv", items, ValueKind.RANKING) is None


def test_huge_finite_numbers_are_kept(tmp_path: Path) -> None:
    items = _items(["a"])
    assert math.isfinite(
        _values(_read(tmp_path, "p.csv", b"id,prediction\na,1e308\n", items, ValueKind.NUMBER))[0]
    )


# --- nesting and length bombs (issue #13) -------------------------------------------------------


@st.composite
def deep_lines(draw: st.DrawFn) -> tuple[bytes, int]:
    """A valid file with one line made deep (lists, objects, or both, in the id, the
    prediction or another key; depth around the fast path's bound or far past pyarrow's crash,
    17,000) or long (around the bound on line length); and that line's number."""
    depth = draw(
        st.integers(fp.MAX_FAST_DEPTH - 3, fp.MAX_FAST_DEPTH + 3)
        | st.integers(1_000, 5_000)
        | st.sampled_from([17_000, 20_000, 100_000])
    )
    # a pattern of lists and objects, repeated to the depth
    pattern = draw(st.lists(st.sampled_from(["[", '{"k":']), min_size=1, max_size=4))
    levels = (pattern * (depth // len(pattern) + 1))[:depth]
    closes = "".join("]" if c == "[" else "}" for c in reversed(levels))
    value = "".join(levels) + ("1" if levels[-1] != "[" else "") + closes
    if draw(st.booleans()):  # or the same count of brackets inside a string: not deep at all
        value = json.dumps(value)
    where = draw(st.sampled_from(["id", "prediction", "extra"]))
    base = [{"id": i, "prediction": "x"} for i in ("a", "b", "c", "1", "é")]
    at = draw(st.integers(0, len(base) - 1))
    fields = {"id": json.dumps(base[at]["id"]), "prediction": '"x"'}
    line = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items())
    if where == "extra":
        line += f', "extra": {value}}}'
    else:
        line = line.replace(fields[where], value, 1) + "}"
    if draw(st.booleans()):  # and long: just under or over the bound on line length
        pad = fp.MAX_FAST_LINE - len(line) + draw(st.integers(-40, 40))
        line = line[:-1] + f', "pad": "{"p" * max(0, pad)}"}}'
    rows = [json.dumps(r, ensure_ascii=False) for r in base]
    rows[at] = line
    return ("\n".join(rows) + "\n").encode(), at + 1


@settings(max_examples=30, deadline=None)
@given(case=deep_lines(), kind=st.sampled_from(KINDS))
def test_deep_or_long_lines_never_reach_pyarrow_and_are_named(
    tmp_path: Path, case: tuple[bytes, int], kind: ValueKind
) -> None:
    raw, line = case
    ends = fp.line_ends(pa.py_buffer(raw))
    fast = _fast(raw, ".jsonl", ITEMS, kind)  # a crash here would end the test run
    if ends is None:
        assert fast is None
    try:
        exact = _exact(raw, ".jsonl", ITEMS, kind)
    except InputError as exc:
        assert fast is None, exc  # the fast path accepts only what the exact path accepts
        if "nested too deeply" in exc.problem:
            assert exc.line == line, exc
        with pytest.raises(InputError):
            _read(tmp_path, "p.jsonl", raw, ITEMS, kind)
    else:
        if fast is not None:
            assert fast.to_pylist() == exact
