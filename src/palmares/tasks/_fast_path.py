"""The fast path for predictions files: pyarrow parses, numpy aligns, nothing per line in Python.

It gives up (returns None) on anything unusual, and ``predictions.read_predictions`` then takes
the exact path, which names the line and field of the first problem. Both must agree on every
file they accept: ``tests/test_bad_input.py`` checks it case by case.

pyarrow never sees input the exact path would refuse, nor input that is costly for it: the
bounds below are checked on the raw bytes first, and a file over any of them goes straight to
the exact path, which refuses it (naming its line) or reads it in plain Python.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from palmares.core import ValueKind
from palmares.tasks._id_index import IdIndex

PROBA_PREFIX = "probabilities."

#: JSON Lines: the most opening brackets (``[`` and ``{``, inside strings or not) a line may hold
#: for pyarrow to parse it. Its JSON reader recurses once per level of nesting, on the C stack:
#: measured on pyarrow 26.0.1 (Linux x86-64, 8 MiB stack), a line ``{"id": [[[…]]]}`` nested
#: 16,800 deep parses (in minutes: the time grows with the square of the depth, 5 s at 5,000,
#: 26 s at 10,000, 83 s at 14,000) and one nested 16,900 deep kills the process at once
#: (SIGSEGV), in the main thread as in another; a table nested 10,000 deep also crashes when
#: its schema is printed. A predictions
#: line needs at most 5 (per-choice scores); brackets inside strings only make the count larger,
#: so it bounds the real depth.
MAX_FAST_DEPTH = 64
#: JSON Lines: the longest line pyarrow is given (bytes), its block size: a longer object would
#: straddle two blocks, which pyarrow refuses anyway
MAX_FAST_LINE = 1 << 20
#: fields (keys, at any depth) of the first line of JSON Lines, and columns of a CSV header: the
#: fast path fixes the schema to them. pyarrow's memory grows with columns × rows: given its way,
#: 10,000 lines with a key of their own each (420 kB) took 1.5 GB and 16 s, and a CSV header of
#: 131,000 empty names (262 kB) 1.1 GB
MAX_FAST_FIELDS = 64
#: bytes scanned at a time for the bounds (the temporaries stay small)
_SCAN_CHUNK = 16 << 20


@dataclass(frozen=True)
class _Facts:
    digest: str
    utf8: bool
    lines: int  # lines up to the last non-blank byte


def _facts(buf: pa.Buffer) -> _Facts:
    offsets = pa.py_buffer(np.array([0, buf.size], dtype=np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, buf])
    try:
        text.validate(full=True)  # UTF-8 check without decoding into a Python string
        utf8 = True
    except pa.ArrowInvalid:
        utf8 = False
    newlines = int(np.count_nonzero(np.frombuffer(buf, dtype=np.uint8) == ord("\n")))
    tail = buf.slice(max(0, buf.size - 4096)).to_pybytes()
    body = tail.rstrip(b" \t\r\n")
    if not body and buf.size > len(tail):  # a long blank end: count on the whole file
        whole = buf.to_pybytes()
        body, tail = whole.rstrip(b" \t\r\n"), whole
    lines = newlines - tail[len(body) :].count(b"\n") + 1
    return _Facts(hashlib.sha256(buf).hexdigest(), utf8, lines)


class SecondCore:
    """The file's facts, computed on the second core once parsing (which uses both) is done.

    Hashing, UTF-8 validation and counting newlines release the GIL, so they cost nothing while
    the main thread aligns ids and scores.
    """

    def __init__(self, buf: pa.Buffer, pool: ThreadPoolExecutor) -> None:
        self._buf, self._pool = buf, pool
        self._future: Future[_Facts] | None = None

    def start(self) -> None:
        if self._future is None:
            self._future = self._pool.submit(_facts, self._buf)

    def result(self) -> _Facts:
        self.start()
        assert self._future is not None
        return self._future.result()

    def beside(self, fn: Callable[[], pa.Array]) -> Future[pa.Array]:
        """Run ``fn`` on the second core too (after the facts)."""
        return self._pool.submit(fn)


def is_blank(buf: pa.Buffer) -> bool:
    """Nothing but a BOM and whitespace (decided on the first 4 kB unless they are blank)."""
    body = _without_bom(buf)
    head = body.slice(0, min(4096, body.size)).to_pybytes()
    if head and not head.isspace():
        return False
    rest = body.to_pybytes() if body.size > len(head) else head
    return not rest or rest.isspace()


def _without_bom(buf: pa.Buffer) -> pa.Buffer:
    return buf.slice(3) if buf.slice(0, min(3, buf.size)).to_pybytes() == b"\xef\xbb\xbf" else buf


_ARROW_KINDS = {
    ValueKind.LABEL: lambda t: (
        pa.types.is_string(t) or pa.types.is_integer(t) or pa.types.is_boolean(t)
    ),
    ValueKind.TEXT: pa.types.is_string,
    ValueKind.NUMBER: lambda t: pa.types.is_integer(t) or pa.types.is_floating(t),
    ValueKind.RANKING: lambda t: (
        pa.types.is_list(t)
        and (pa.types.is_string(t.value_type) or pa.types.is_integer(t.value_type))
    ),
}


def line_ends(buf: pa.Buffer) -> np.ndarray | None:
    """Where the lines of JSON Lines ``buf`` end (the offsets of its LFs), when every line is
    within :data:`MAX_FAST_LINE` bytes and :data:`MAX_FAST_DEPTH` opening brackets; None
    otherwise. Vectorised: two comparisons per byte, then a search per bracket."""
    data = np.frombuffer(buf, dtype=np.uint8)
    ends_parts, opens_parts = [], []
    for start in range(0, data.size, _SCAN_CHUNK):
        part = data[start : start + _SCAN_CHUNK]
        ends_parts.append(np.flatnonzero(part == 0x0A) + start)
        opens_parts.append(np.flatnonzero((part | 0x20) == 0x7B) + start)  # "[" 5B, "{" 7B
    ends = np.concatenate(ends_parts) if ends_parts else np.zeros(0, np.int64)
    bounds = np.concatenate(([-1], ends, [data.size]))
    if int(np.diff(bounds).max()) - 1 > MAX_FAST_LINE:
        return None
    opens = np.concatenate(opens_parts) if opens_parts else np.zeros(0, np.int64)
    if opens.size > MAX_FAST_DEPTH:
        line = np.searchsorted(ends, opens)  # the line of each bracket
        if bool(np.any(line[MAX_FAST_DEPTH:] == line[:-MAX_FAST_DEPTH])):
            return None  # one line holds more than MAX_FAST_DEPTH of them
    return ends


def _fields(t: pa.DataType) -> int:
    return sum(1 + _fields(t.field(i).type) for i in range(t.num_fields))


def _first_line_schema(body: pa.Buffer, ends: np.ndarray, kind: ValueKind) -> pa.Schema | None:
    """The schema of the first line, to which the whole file is then held (a key it does not
    have, or a value of another type, makes pyarrow give up): at most MAX_FAST_FIELDS fields."""
    first = body.slice(0, int(ends[0]) if ends.size else body.size).to_pybytes()
    if first.count(b":") > MAX_FAST_FIELDS:  # each key has one
        return None
    try:
        schema = pajson.read_json(pa.BufferReader(first)).schema
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if sum(1 + _fields(f.type) for f in schema) > MAX_FAST_FIELDS:
        return None
    at = schema.get_field_index("prediction")
    if kind is ValueKind.NUMBER and at >= 0 and pa.types.is_integer(schema.field(at).type):
        schema = schema.set(at, pa.field("prediction", pa.float64()))  # 2 here, 2.5 further on
    return schema


def fast_jsonl(
    buf: pa.Buffer, second: SecondCore, index: IdIndex, kind: ValueKind
) -> pa.Array | None:
    body = _without_bom(buf)
    ends = line_ends(body)
    if ends is None:
        return None  # nested deeply or long lines: the exact path says where
    schema = _first_line_schema(body, ends, kind)
    if schema is None:
        return None
    options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    try:
        table = pajson.read_json(pa.BufferReader(body), parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not _names_are_utf8(table):
        return None
    second.start()
    values = _fast_columns(table, index, kind, second)
    if values is None or not second.result().utf8:
        return None  # pyarrow takes the bytes as they are; the exact path names the line
    if second.result().lines != table.num_rows:
        return None  # blank lines, or several objects on one line: the exact path decides
    return values


def _names_are_utf8(table: pa.Table) -> bool:
    """pyarrow keeps a header's (or a JSON key's) bytes as they are and decodes them only when
    asked: a name that is not UTF-8 would raise there; the exact path names its line."""
    try:
        table.column_names  # noqa: B018
    except UnicodeDecodeError:
        return False
    return True


def _fast_columns(
    table: pa.Table, index: IdIndex, kind: ValueKind, second: SecondCore
) -> pa.Array | None:
    if "probabilities" in table.column_names:
        return None  # checked item by item on the exact path
    if "id" not in table.column_names or "prediction" not in table.column_names:
        return None
    ids = table.column("id").combine_chunks()
    pred = table.column("prediction").combine_chunks()
    if not (pa.types.is_string(ids.type) or pa.types.is_integer(ids.type)):
        return None
    accepts = _ARROW_KINDS.get(kind)  # per-choice scores and pairs: the exact path checks them
    if accepts is None or not accepts(pred.type) or pred.null_count:
        return None
    if kind is ValueKind.LABEL and not pa.types.is_string(pred.type):
        pred = pred.cast(pa.string())
    return _fast_align(ids, pred, index, kind, second)


def fast_delimited(
    buf: pa.Buffer, second: SecondCore, delimiter: str, index: IdIndex, kind: ValueKind
) -> pa.Array | None:
    body = _without_bom(buf)
    if _without_bom(body).size != body.size:
        return None  # pyarrow would skip a second BOM too, which the exact path keeps
    header = _csv_header(body, delimiter)
    if header is None or len(header) > MAX_FAST_FIELDS or len(set(header)) != len(header):
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},  # as the exact path reads
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not _names_are_utf8(table) or table.column_names != header:
        return None
    limit = csv.field_size_limit()
    for column in table.columns:  # the csv module refuses a field over its limit (128 kB)
        longest = pc.max(pc.binary_length(column)).as_py()
        if longest is not None and longest >= limit:
            return None
    second.start()
    values = _fast_csv_columns(table, index, kind, second)
    return values if values is not None and second.result().utf8 else None


def _csv_header(body: pa.Buffer, delimiter: str) -> list[str] | None:
    """The header as the csv module reads it (from at most its field limit of bytes): its
    names fix the columns pyarrow makes; None when it does not end within those bytes."""
    head = body.slice(0, min(body.size, csv.field_size_limit())).to_pybytes()
    text = head.decode("utf-8", errors="replace")
    stream = io.StringIO(text, newline="")
    try:
        header = next(csv.reader(stream, delimiter=delimiter))
    except (StopIteration, csv.Error):
        return None
    if body.size > len(head) and stream.tell() >= len(text):
        return None  # the header may go on past what was read
    return header


def _fast_csv_columns(
    table: pa.Table, index: IdIndex, kind: ValueKind, second: SecondCore
) -> pa.Array | None:
    names = table.column_names
    if "id" not in names or "prediction" not in names or len(set(names)) != len(names):
        return None
    if any(n.startswith(PROBA_PREFIX) for n in names):
        return None
    ids = table.column("id").combine_chunks()
    pred = table.column("prediction").combine_chunks()
    if kind is ValueKind.NUMBER:
        try:
            pred = pred.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    elif kind is ValueKind.RANKING:
        pred = pc.utf8_split_whitespace(pred)
        # Python's str.split() drops the empty pieces of a blank cell or of surrounding blanks
        # (" a b " → [a, b]); pyarrow keeps them (["", "a", "b", ""]): leave those to it
        if pc.any(pc.equal(pc.list_flatten(pred), "")).as_py():
            return None
    return _fast_align(ids, pred, index, kind, second)


def _fast_align(
    ids: pa.Array, pred: pa.Array, index: IdIndex, kind: ValueKind, second: SecondCore
) -> pa.Array | None:
    if ids.null_count:
        return None
    if kind is ValueKind.NUMBER and not pc.all(pc.is_finite(pred)).as_py():
        return None
    # few distinct labels: move small codes rather than strings (encoded on the second core)
    encoded = second.beside(pred.dictionary_encode) if kind is ValueKind.LABEL else None
    if not pa.types.is_string(ids.type):
        ids = ids.cast(pa.string())
    order = index.alignment(ids)
    if encoded is not None:
        pred = encoded.result()
        if pc.any(pc.equal(pred.dictionary.cast(pa.string()), "")).as_py():
            return None
    if order is None:
        return None  # unknown, duplicate or missing ids: the exact path says which and where
    return pred.take(pa.array(order))
