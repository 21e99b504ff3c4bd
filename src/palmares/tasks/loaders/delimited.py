"""CSV and TSV with a header row. Every cell is read as text; metrics convert what they need.

TSV is read without quoting (a tab never appears inside a field, quotes often do); CSV follows
RFC 4180 quoting. pyarrow parses the file (fast, multi-threaded); the file lines of the rows are
known exactly when no field spans several lines, otherwise errors name row numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from palmares.core import DatasetSpec, InputError
from palmares.tasks.loaders._base import Rows


def _load(location: str, delimiter: str, quoting: bool) -> Rows:
    raw = Path(location).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("not valid UTF-8 text", file=location, line=line) from None
    first = raw.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if not first.strip():
        raise InputError("empty file or missing header row", file=location, line=1)
    header = next(
        csv.reader(
            [first], delimiter=delimiter, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE
        )
    )
    if len(set(header)) != len(header):
        raise InputError("duplicate column names in the header", file=location, line=1)
    try:
        table = pacsv.read_csv(
            io.BytesIO(raw),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoting else False,
                newlines_in_values=quoting,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot parse: {exc}", file=location) from None
    n = table.num_rows
    data_lines = raw.rstrip(b"\r\n").count(b"\n")
    lines = list(range(2, n + 2)) if data_lines == n else None
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    return Rows(columns, n, location, lines)


def load_csv(location: str, spec: DatasetSpec) -> Rows:
    return _load(location, ",", quoting=True)


def load_tsv(location: str, spec: DatasetSpec) -> Rows:
    return _load(location, "\t", quoting=False)
