"""Reading a predictions file and aligning it on a task's items.

Formats: JSON Lines (``{"id": …, "prediction": …, "probabilities": {label: p}}`` per line) and
CSV/TSV with a header ``id,prediction`` (probabilities as ``probabilities.<label>`` columns; a
ranking as ids separated by spaces).

One reader for the CLI, the upload check and the worker: :func:`predictions_format` decides the
format once, from the file's name (``.jsonl``/``.ndjson``, ``.csv``, ``.tsv``, a ``.gz`` after
them) or, when the name says nothing, from its content (:func:`sniff_format`: a first non-blank
character ``{`` is JSON Lines, a header with ``id`` and ``prediction`` columns is CSV or TSV by
its delimiter). A name that the content plainly contradicts is refused (the problem found
reading it as named says what the content is): so every file this module accepts reads the same
from its content alone, which is how the worker reads a stored artifact (content-addressed, it
has no name).

Two paths give the same result. The fast path parses the whole file with pyarrow and checks ids
and types column-wise; it scores a million lines in well under a second. When it meets anything
unusual it gives up, and the exact path (plain Python, line by line) either finds the first
problem and names its line and field, or accepts the file. Nothing is ever written here.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from palmares.core import InputError, ItemSet, Message, Predictions, ValueKind, label_text
from palmares.tasks._fast_path import (
    PROBA_PREFIX,
    SecondCore,
    fast_delimited,
    fast_jsonl,
    is_blank,
)
from palmares.tasks._id_index import IdIndex

Format = Literal["jsonl", "csv", "tsv"]
#: how a file's name tells its format (the last suffix, after a ``.gz`` is taken off)
SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
DELIMITERS: dict[str, str] = {"csv": ",", "tsv": "\t"}
_SHOWN = {"jsonl": "JSON Lines", "csv": "CSV", "tsv": "TSV"}
#: bytes of the start of a file that :func:`sniff_format` reads (a header longer than this is
#: judged on its start)
SNIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class OtherSplit:
    """Another split of the same task, for the messages about ids: a file whose ids are this
    split's is told so (``choose``: how the sender picks it, e.g. ``« développement »``).
    ``ids`` is called only when a file's ids do not match, to say whether they are these."""

    name: str
    choose: str | Message
    ids: Callable[[], Collection[str]]


def format_from_name(name: str | Path) -> Format | None:
    """The format a file's name gives (``p.csv``, ``p.csv.gz``), or None when it says nothing."""
    lower = Path(name).name.lower().removesuffix(".gz")
    return next((fmt for suffix, fmt in SUFFIXES.items() if lower.endswith(suffix)), None)


def sniff_format(head: bytes) -> tuple[Format, bool]:
    """The format the start of a file reads as, and whether it plainly is that one: a first
    non-blank character ``{`` (JSON Lines), or a first line holding the columns ``id`` and
    ``prediction`` split by commas (CSV) or tabs (TSV). Otherwise a guess (not plain): a first
    line with a tab is TSV, one with a comma CSV, anything else JSON Lines."""
    text = head[:SNIFF_BYTES].decode("utf-8", errors="replace").removeprefix("\ufeff")
    first = next((line for line in text.split("\n") if line.strip()), "")
    start = first.lstrip()
    if start.startswith("{"):
        return "jsonl", True
    for fmt in ("csv", "tsv"):  # the header as the CSV reader reads it: the first record
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[fmt]))
        except (StopIteration, csv.Error):
            continue
        if "id" in header and "prediction" in header:
            return fmt, True
    if start.startswith("["):
        return "jsonl", False
    if "\t" in first:
        return "tsv", False
    return ("csv" if "," in first else "jsonl"), False


def predictions_format(path: str | Path, head: bytes | None = None) -> Format:
    """The format the predictions file ``path`` is read in (``head``: its first bytes, when
    already read): the name's when it gives one, else the content's (:func:`sniff_format`)."""
    if head is None:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    return format_from_name(path) or sniff_format(head)[0]


def _contradiction(named: Format | None, head: bytes) -> Message | None:
    """What to tell when the content plainly is another format than the name gives."""
    sniffed, plain = sniff_format(head)
    if named is None or not plain or sniffed == named:
        return None
    why = (
        Message("its first line is a JSON object")
        if sniffed == "jsonl"
        else Message(
            "its first line is a {format} header with id and prediction columns",
            format=_SHOWN[sniffed],
        )
    )
    suffix = next(s for s, f in SUFFIXES.items() if f == sniffed)
    named_as, holds = _SHOWN[named], _SHOWN[sniffed]
    return Message(
        "the file is named as {named} but holds {holds} ({why}): name it {suffix}",
        named=named_as, holds=holds, why=why, suffix=suffix,
    )  # fmt: skip


def read_predictions(
    path: str | Path,
    items: ItemSet,
    kind: ValueKind,
    *,
    index: IdIndex | None = None,
    other_splits: Sequence[OtherSplit] = (),
) -> Predictions:
    """Read ``path`` and return predictions aligned on ``items`` (one per item, in item order).

    The format is :func:`predictions_format`'s; a file whose content plainly is another format
    than its name says is refused (even when it would read in both), so that what is accepted
    reads the same from its content alone. ``index`` is the items' :class:`IdIndex`; pass it
    when scoring many files against the same items, so that it is built once. When the file's
    ids do not match the items', a file that holds one of ``other_splits``' ids instead is told
    so (by the split's name: its ids are never shown).
    """
    path = Path(path)
    name = str(path)
    try:
        buf = pa.memory_map(name).read_buffer()  # no copy: parsed and hashed in place
    except FileNotFoundError:
        raise InputError(Message("file not found"), file=name) from None
    if is_blank(buf):
        raise InputError(Message("the file is empty"), file=name)
    head = buf.slice(0, min(buf.size, SNIFF_BYTES)).to_pybytes()
    fmt = predictions_format(path, head)
    contradiction = _contradiction(format_from_name(path), head)
    try:
        predictions = _read(buf, name, DELIMITERS.get(fmt), items, kind, index, other_splits)
    except InputError as exc:
        if contradiction is None:
            raise
        problem = Message(
            "{problem}; {contradiction}",
            problem=exc.message or exc.problem, contradiction=contradiction,
        )  # fmt: skip
        raise InputError(problem, file=exc.file, line=exc.line, field=exc.field) from None
    if contradiction is not None:  # it reads as both: the worker, reading the content, would differ
        raise InputError(contradiction, file=name, line=1)
    return predictions


def _read(
    buf: pa.Buffer,
    name: str,
    delimiter: str | None,
    items: ItemSet,
    kind: ValueKind,
    index: IdIndex | None,
    other_splits: Sequence[OtherSplit],
) -> Predictions:
    if index is None:
        index = IdIndex(pa.array(items.ids, type=pa.string()))
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = SecondCore(buf, pool)
        fast = (
            fast_delimited(buf, second, delimiter, index, kind)
            if delimiter
            else fast_jsonl(buf, second, index, kind)
        )
        digest = second.result().digest
    if fast is not None:
        return Predictions(values=fast, digest=digest, source=name)
    raw = buf.to_pybytes()
    records = (
        _exact_delimited(raw, delimiter, name, kind) if delimiter else _exact_jsonl(raw, name, kind)
    )
    return _align(records, items, name, digest, other_splits)


# --- exact path --------------------------------------------------------------------------------

Record = tuple[int, str, Any, dict[str, float] | None]  # line, id, prediction, probabilities


def _exact_jsonl(raw: bytes, name: str, kind: ValueKind) -> list[Record]:
    records: list[Record] = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        try:
            text = line.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError:
            raise InputError(Message("not valid UTF-8 text"), file=name, line=lineno) from None
        if not text.strip():
            continue
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError) as exc:
            msg: str | Message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            if "\r" in text.rstrip():  # lines ended by CR alone run together as one
                msg = Message(
                    "lines end with a lone carriage return (CR): end them with LF or CRLF"
                )
            elif isinstance(msg, str) and msg in JSON_PROBLEMS:
                msg = Message(msg)
            problem = Message("invalid JSON: {detail}", detail=msg)
            raise InputError(problem, file=name, line=lineno) from None
        except RecursionError:  # a nesting bomb ([[[[…]]]]): the parser recurses per level
            raise InputError(
                Message("invalid JSON: {detail}", detail=Message("nested too deeply")),
                file=name,
                line=lineno,
            ) from None
        if not isinstance(obj, dict):
            raise InputError(_got("expected a JSON object, got {got}", obj), file=name, line=lineno)
        for key in ("id", "prediction"):
            if key not in obj:
                raise InputError(Message("missing"), file=name, line=lineno, field=key)
        where = {"file": name, "line": lineno}
        item_id = _check_id(obj["id"], where)
        value = _check_value(obj["prediction"], kind, where)
        proba = _check_probabilities(obj.get("probabilities"), where)
        records.append((lineno, item_id, value, proba))
    return records


def _exact_delimited(raw: bytes, delimiter: str, name: str, kind: ValueKind) -> list[Record]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Message("not valid UTF-8 text"), file=name, line=line) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _delimited_records(reader, name, kind)
    except csv.Error as exc:  # a field over the csv module's limit (128 kB), a stray NUL…
        raise InputError(
            Message("invalid CSV: {detail}", detail=str(exc)), file=name, line=reader.line_num
        ) from None


def _delimited_records(reader: Any, name: str, kind: ValueKind) -> list[Record]:
    header = next(reader)
    if len(set(header)) != len(header):
        raise InputError(Message("duplicate column names in the header"), file=name, line=1)
    for key in ("id", "prediction"):
        if key not in header:
            raise InputError(
                Message("no {column} column in the header", column=repr(key)),
                file=name,
                line=1,
                field=key,
            )
    col = {h: i for i, h in enumerate(header)}
    proba_cols = {h[len(PROBA_PREFIX) :]: i for h, i in col.items() if h.startswith(PROBA_PREFIX)}
    records: list[Record] = []
    start = reader.line_num + 1
    for row in reader:
        where: dict[str, Any] = {"file": name, "line": reader.line_num}
        row_start, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header) and reader.line_num > row_start:
            raise InputError(
                Message(
                    "a quote opened here is not closed before line {line}", line=reader.line_num
                ),
                file=name,
                line=row_start,
            )
        if len(row) != len(header):
            raise InputError(
                Message(
                    "{fields} fields where the header has {header}",
                    fields=len(row), header=len(header),
                ),
                **where,
            )  # fmt: skip
        item_id = _check_id(row[col["id"]], where)
        cell = row[col["prediction"]]
        value = _check_value(cell.split() if kind is ValueKind.RANKING else cell, kind, where)
        proba = None
        if proba_cols:
            proba = {
                label: _to_float(row[i], f"probabilities.{label}", where)
                for label, i in proba_cols.items()
            }
            proba = _check_probabilities(proba, where)
        records.append((reader.line_num, item_id, value, proba))
    return records


def _align(
    records: list[Record],
    items: ItemSet,
    name: str,
    digest: str,
    other_splits: Sequence[OtherSplit] = (),
) -> Predictions:
    index = items.index
    values: list[Any] = [None] * len(items)
    probas: list[dict[str, float] | None] = [None] * len(items)
    first_line: dict[str, int] = {}
    for lineno, item_id, value, proba in records:
        pos = index.get(item_id)
        if pos is None:
            raise InputError(
                Message(
                    "unknown id {id}: no such item in this task split{hint}",
                    id=_short(item_id),
                    hint=_other_split_hint(records, items, other_splits),
                ),
                file=name,
                line=lineno,
                field="id",
            )
        if item_id in first_line:
            raise InputError(
                Message(
                    "duplicate id {id} (first seen on line {first})",
                    id=_short(item_id),
                    first=first_line[item_id],
                ),
                file=name,
                line=lineno,
                field="id",
            )
        first_line[item_id] = lineno
        values[pos] = value
        probas[pos] = proba
    missing = [items.ids[i] for i in range(len(items)) if items.ids[i] not in first_line]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise InputError(
            Message(
                "missing predictions for {missing} of {total} items: {shown}{hint}",
                missing=len(missing),
                total=len(items),
                shown=shown,
                hint=_other_split_hint(records, items, other_splits),
            ),
            file=name,
        )
    with_proba = sum(p is not None for p in probas)
    if with_proba not in (0, len(probas)):
        raise InputError(
            Message("probabilities are given for some items but not all"),
            file=name,
            field="probabilities",
        )
    probabilities = [p for p in probas if p is not None] if with_proba else None
    return Predictions(values=values, probabilities=probabilities, digest=digest, source=name)


#: a file is told its ids are another split's when it holds at least this share of that
#: split's ids, and they make at least this share of its own
OTHER_SPLIT_SHARE = 0.9


def _other_split_hint(
    records: list[Record], items: ItemSet, other_splits: Sequence[OtherSplit]
) -> Message | str:
    """``"; these ids are the dev split's: choose …"`` when the file's ids are plainly another
    split's rather than this one's; "" otherwise. Splits may share ids as strings (``q-0001``
    in dev and in test, for other questions): the whole id sets are compared. The file is
    another split's when it covers at least ``OTHER_SPLIT_SHARE`` of that split with ids that are
    mostly that split's, and a larger share of it than of this split — or when it holds exactly
    that split's ids and not this one's. Nothing of the other split is shown but its name."""
    if not other_splits:
        return ""
    ids = {item_id for _, item_id, _, _ in records}
    if not ids:
        return ""
    here = items.index
    mine = sum(1 for i in ids if i in here) / max(len(items), 1)
    for other in other_splits:
        theirs = set(other.ids())
        if not theirs or theirs == set(items.ids):
            continue  # the same ids: they cannot tell the splits apart
        shared = len(ids & theirs)
        covers, purity = shared / len(theirs), shared / len(ids)
        exact = ids == theirs
        if exact or (covers >= OTHER_SPLIT_SHARE and purity >= OTHER_SPLIT_SHARE and covers > mine):
            return Message(
                "; these ids are the {split} split's: choose {choose}",
                split=other.name, choose=other.choose,
            )  # fmt: skip
    return ""


def _check_id(value: Any, where: dict[str, Any]) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise InputError(
            _got("expected a non-empty string or integer, got {got}", value), field="id", **where
        )
    return str(value)


def _check_value(value: Any, kind: ValueKind, where: dict[str, Any]) -> Any:
    got = _kind_of(value)
    if kind is ValueKind.LABEL:
        text = label_text(value)  # the same rule as for references
        if text is not None:
            return text
        problem = Message("expected a label (a non-empty string or an integer), got {got}", got=got)
    elif kind is ValueKind.TEXT:
        if isinstance(value, str):
            return value
        problem = Message("expected text (a string), got {got}", got=got)
    elif kind is ValueKind.NUMBER:
        return _to_float(value, "prediction", where)
    elif kind is ValueKind.CHOICE:
        # a file gives the chosen answer's index; as scores: that choice alone is possible
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000:
            width = value + 1
            return {
                "logliks": [-math.inf] * value + [0.0],
                "chars": [1.0] * width,
                "tokens": [1.0] * width,
            }
        if isinstance(value, dict) and isinstance(value.get("logliks"), list) and value["logliks"]:
            # per-choice scores, as a model run gives them (what acc_norm needs)
            logliks = [_to_float(v, "prediction.logliks", where) for v in value["logliks"]]
            width = len(logliks)
            out: dict[str, list[float]] = {"logliks": logliks}
            for key in ("chars", "tokens"):
                given = value.get(key, [1.0] * width)
                if not isinstance(given, list) or len(given) != width:
                    raise InputError(
                        Message("expected {width} values, one per choice", width=width),
                        field=f"prediction.{key}",
                        **where,
                    )  # fmt: skip
                out[key] = [_to_float(v, f"prediction.{key}", where) for v in given]
            return out
        problem = Message(
            "expected the index of the chosen answer (0, 1, 2…) or per-choice scores "
            '{scores}, got {got}',
            scores='{"logliks": [...]}', got=got,
        )  # fmt: skip
    elif kind is ValueKind.PAIR:
        if isinstance(value, dict) and set(value) == {"first", "second"}:
            return {k: _to_float(value[k], f"prediction.{k}", where) for k in ("first", "second")}
        problem = Message(
            "expected {pair}, got {got}",
            pair='{"first": log-likelihood, "second": log-likelihood}', got=got,
        )  # fmt: skip
    else:
        if isinstance(value, list) and all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
        ):
            return [str(v) for v in value]
        problem = Message("expected a ranked list of ids, got {got}", got=got)
    raise InputError(problem, field="prediction", **where)


def _to_float(value: Any, field: str, where: dict[str, Any]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(_got("expected a number, got {got}", value), field=field, **where)
    try:
        number = float(value)
    except ValueError:
        raise InputError(
            Message("expected a number, got {got}", got=_short(value)), field=field, **where
        ) from None
    if not math.isfinite(number):
        raise InputError(
            Message("expected a finite number, got {got}", got=_short(value)), field=field, **where
        )
    return number


def _check_probabilities(value: Any, where: dict[str, Any]) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise InputError(
            _got("expected an object label → probability, got {got}", value),
            field="probabilities",
            **where,
        )
    out = {str(k): _to_float(v, f"probabilities.{k}", where) for k, v in value.items()}
    if any(p < 0 or p > 1 for p in out.values()) or abs(sum(out.values()) - 1) > 1e-3:
        raise InputError(
            Message("probabilities must lie in [0, 1] and sum to 1"),
            field="probabilities",
            **where,
        )
    return out


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _short(value: Any) -> str:
    """``value`` as a message quotes it: a 3 MB id is shown by its start, not echoed whole."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"


def _kind_of(value: Any) -> Message | str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }
    if isinstance(value, str) and value == "":
        return Message("an empty string")
    name = names.get(type(value))
    return Message(name) if name is not None else type(value).__name__


def _got(template: str, value: Any) -> Message:
    """``template`` with ``{got}``: what kind of JSON value ``value`` is."""
    return Message(template, got=_kind_of(value))


#: the JSON parser's own problems, translated on pages (others are shown as the parser says)
JSON_PROBLEMS = (
    "Expecting value",
    "Expecting property name enclosed in double quotes",
    "Expecting ',' delimiter",
    "Expecting ':' delimiter",
    "Extra data",
    "Unterminated string starting at",
    "Invalid control character at",
)
