# ruff: noqa: E501  (the corpus is a table: one case a line reads better than wrapped calls)
"""The hostile corpus: malformed or malicious uploads, each with what the refusal must say.

Every file is made here, in memory, from the example task's baseline predictions (48 lines of
``{"id": "avis-NNN", "prediction": "positif"}``): nothing binary is committed, and the largest
file (the 2 GB one) is never made at all, only streamed from a generator
(:func:`endless_body`).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import pickle
import struct
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BASELINE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "palmares"
    / "examples"
    / "avis-fr"
    / "baseline.jsonl"
)
GOOD = BASELINE.read_bytes()
LINES = GOOD.decode("utf-8").splitlines()
RECORDS = [json.loads(line) for line in LINES]
#: the limits (MB) the corpus is served under: small, so that "too large" stays cheap to make
LIMIT_MB = 1
MODEL_LIMIT_MB = 2


@dataclass(frozen=True)
class Case:
    """One upload: the name it is sent under, its bytes, and what the refusal says."""

    id: str
    filename: str
    body: bytes
    says: tuple[str, ...]  # texts the message must contain (its problem, line, field)
    status: int = 400
    kind: str = "predictions"
    code: str | None = None  # the reply's code, when not invalid_input (400) or too_large (413)


def jsonl(records: list[object]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def csv_text(rows: list[tuple[str, str]], header: str = "id,prediction") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)  # quoted where needed
    return (header + "\n" + out.getvalue()).encode()


def _with(line: int, text: str) -> bytes:
    """The baseline with line ``line`` (1-based) replaced by ``text``."""
    lines = list(LINES)
    lines[line - 1] = text
    return ("\n".join(lines) + "\n").encode()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _zip(data: bytes, name: str = "preds.jsonl") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


def _tar(data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("preds.jsonl")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def gzip_bomb(expanded_mb: int) -> bytes:
    """A few kB of gzip that expand to ``expanded_mb`` MB of zeros."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as fh:
        zeros = bytes(1 << 20)
        for _ in range(expanded_mb):
            fh.write(zeros)
    return out.getvalue()


def _csv_rows() -> list[tuple[str, str]]:
    return [(r["id"], r["prediction"]) for r in RECORDS]


def _evil_pickle() -> bytes:
    class Boom:  # what a malicious checkpoint does: run a command when unpickled
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, ("echo pwned",))

    return pickle.dumps(Boom(), protocol=4)


def _safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0\0\0\0"


def nesting_bomb(depth: int) -> bytes:
    """The outside probe's file (issue #13): one line, its id nested ``depth`` deep; 20,000
    (40 kB) and 100,000 (200 kB) killed the server inside pyarrow's JSON reader."""
    return b'{"id":' + b"[" * depth + b"]" * depth + b',"prediction":"1"}'


def _line(case_id: str, line: int, text: str, *says: str) -> Case:
    """The baseline with one bad line: the refusal names ``p.jsonl`` and that line."""
    return Case(case_id, "p.jsonl", _with(line, text), (f"p.jsonl:{line}:", *says))


def _row(case_id: str, row: str, *says: str, line: int = 2) -> Case:
    """A CSV whose first row is ``row`` (line 2), the baseline's other rows after it."""
    body = csv_text(_csv_rows()[1:]).replace(b"\n", f"\n{row}\n".encode(), 1)
    return Case(case_id, "p.csv", body, (f"p.csv:{line}:", *says))


def prediction_cases() -> list[Case]:
    """Predictions files, each refused with its problem named (the campaign's limit is
    :data:`LIMIT_MB`)."""
    deep = "[" * 100_000 + "]" * 100_000
    huge_id = "x" * 900_000  # one line of 900 kB, under the 1 MB limit
    mixed = GOOD.replace(b"\n", b"\r\n", 3).replace(LINES[4].encode(), LINES[4].encode()[:-1])
    rows = _csv_rows()
    big = LIMIT_MB << 20
    pred = '{"id": "avis-005", "prediction": '
    return [
        # encodings and byte order marks
        Case("latin-1", "p.jsonl", GOOD.decode().encode("latin-1"), ("p.jsonl:2:", "not valid UTF-8")),
        Case("utf-16-bom", "p.jsonl", GOOD.decode().encode("utf-16"), ("UTF-16",)),
        Case("utf-16-no-bom", "p.jsonl", GOOD.decode().encode("utf-16-le"), ("UTF-16", "no byte order")),
        Case("utf-32", "p.jsonl", GOOD.decode().encode("utf-32"), ("UTF-32",)),
        _line("bom-mid-file", 3, "\ufeff" + LINES[2], "BOM"),
        Case("bom-then-duplicate", "p.jsonl", b"\xef\xbb\xbf" + _with(2, LINES[0]), ("p.jsonl:2:", "duplicate id 'avis-001'")),
        _line("nul-bytes", 3, '{"id": "avis-003",\0"prediction": "positif"}', "NUL"),
        # line endings
        Case("mixed-crlf", "p.jsonl", mixed, ("p.jsonl:5:", "invalid JSON")),
        Case("cr-only", "p.jsonl", GOOD.replace(b"\n", b"\r"), ("p.jsonl:1:", "carriage return")),
        # empty and blank
        Case("empty", "p.jsonl", b"", ("p.jsonl:", "empty")),
        Case("blank", "p.jsonl", b"\xef\xbb\xbf \n\n\t\r\n", ("p.jsonl:", "empty")),
        # ids
        _line("missing-id-field", 3, '{"prediction": "positif"}', "id: missing"),
        _line("duplicate-id", 7, LINES[2], "duplicate id 'avis-003' (first seen on line 3)"),
        _line("unknown-id", 4, '{"id": "avis-999", "prediction": "positif"}', "unknown id 'avis-999'"),
        Case("missing-items", "p.jsonl", jsonl(RECORDS[:40]), ("missing predictions for 8 of 48",)),
        _line("id-a-list", 2, '{"id": ["avis-002"], "prediction": "x"}', "id: expected a non-empty", "got a list"),
        _line("id-empty", 2, '{"id": "", "prediction": "positif"}', "id:", "empty string"),
        # values
        _line("nan", 5, pred + "NaN}", "NaN is not a number JSON allows"),
        _line("infinity", 5, pred + "-Infinity}", "-Infinity is not a number"),
        _line("overflow-1e999", 5, pred + "1e999}", "prediction: expected a label"),
        _line("prediction-null", 5, pred + "null}", "prediction:", "got null"),
        _line("prediction-object", 5, pred + '{"a": 1}}', "prediction:", "got an object"),
        _line("prediction-missing", 5, '{"id": "avis-005"}', "prediction: missing"),
        _line("bad-probabilities", 5, pred + '"positif", "probabilities": {"positif": 0.9, "négatif": 0.9}}', "probabilities", "sum to 1"),
        _line("probabilities-nan-string", 5, pred + '"positif", "probabilities": {"positif": "nan"}}', "probabilities.positif", "finite"),
        _line("not-an-object", 8, '["avis-008", "positif"]', "expected a JSON object, got a list"),
        _line("truncated-json", 9, '{"id": "avis-009", "predic', "invalid JSON"),
        # nesting bombs and huge lines
        _line("json-nesting-bomb", 3, '{"id": "avis-003", "prediction": ' + deep + "}", "nested too deeply"),
        _line("json-nesting-id", 2, '{"id": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
        Case("nested-id-40kB", "p.jsonl", nesting_bomb(20_000), ("p.jsonl:1:", "nested too deeply")),
        Case("nested-id-200kB", "p.jsonl", nesting_bomb(100_000), ("p.jsonl:1:", "nested too deeply")),
        Case("nested-id-40kB-gzip", "p.jsonl.gz", _gzip(nesting_bomb(20_000)), ("p.jsonl.gz:1:", "nested too deeply")),
        Case("nested-id-200kB-gzip", "p.jsonl.gz", _gzip(nesting_bomb(100_000)), ("p.jsonl.gz:1:", "nested too deeply")),
        Case("nested-objects-200kB", "p.jsonl", b'{"id": "avis-001", "prediction": ' + b'{"a":' * 40_000 + b"1" + b"}" * 40_001, ("p.jsonl:1:", "nested too deeply")),
        Case("many-keys", "p.jsonl", b"".join(b'{"id": "avis-%03d", "prediction": "positif", "k%d": 1}\n' % (i % 48 + 1, i) for i in range(10_000)), ("p.jsonl:49:", "duplicate id 'avis-001'")),
        _row("csv-many-columns", "avis-001,positif" + "," * 100_000, "100002 fields where the header has 2"),
        Case("csv-wide-header", "p.csv", b"id,prediction" + b",x" * 100_000 + b"\n", ("p.csv:1:", "duplicate column names")),
        _line("huge-line-id", 10, json.dumps({"id": huge_id, "prediction": "x"}), "unknown id 'xxxx", "characters)"),
        _row("huge-csv-field", "avis-x" + "y" * 300_000 + ",positif", "field larger than field limit"),
        # CSV and TSV: formulas are ids or labels like any other text, never evaluated
        _row("csv-formula-id", '"=HYPERLINK(""http://evil"",""x"")",positif', "unknown id '=HYPERLINK("),
        _row("csv-formula-dde", "\"@SUM(1+1)*cmd|' /C calc'!A0\",positif", "unknown id \"@SUM"),
        _row("csv-formula-plus", "+cmd|' /C calc'!A0,positif", "unknown id \"+cmd"),
        Case("csv-no-prediction-column", "p.csv", csv_text(rows, "id,label"), ("p.csv:1:", "no 'prediction' column")),
        Case("csv-duplicate-columns", "p.csv", csv_text(rows, "id,id"), ("p.csv:1:", "duplicate column names")),
        _row("csv-ragged-row", "avis-001,positif,extra", "3 fields where the header has 2"),
        _row("csv-open-quote", '"avis-001,positif', "a quote opened here is not closed"),
        Case("tsv-with-commas", "p.tsv", csv_text(rows), ("p.tsv:1:", "no 'id' column")),
        # archives, compression, other formats
        Case("zip", "p.jsonl", _zip(GOOD), ("p.jsonl:", "a ZIP archive")),
        Case("zip-in-gzip", "p.jsonl.gz", _gzip(_zip(GOOD)), ("p.jsonl.gz:", "a ZIP archive")),
        Case("gzip-twice", "p.jsonl.gz", _gzip(_gzip(GOOD)), ("compressed twice",)),
        Case("gzip-bomb", "p.jsonl.gz", gzip_bomb(64), (f"larger than {LIMIT_MB} MB decompressed",), 413),
        Case("gzip-truncated", "p.jsonl.gz", _gzip(GOOD)[:-40], ("cut short",)),
        Case("gzip-corrupt", "p.jsonl.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 200, ("not valid gzip data",)),
        Case("gzip-trailing-garbage", "p.jsonl.gz", _gzip(GOOD) + b"junk", ("after the end of the gzip",)),
        Case("gzip-of-bad-lines", "p.csv.gz", _gzip(csv_text([rows[0], rows[0]])), ("p.csv.gz:3:", "duplicate id")),
        Case("bzip2", "p.jsonl", bz2.compress(GOOD), ("bzip2",)),
        Case("xz", "p.jsonl", lzma.compress(GOOD), ("xz",)),
        Case("tar", "p.jsonl", _tar(GOOD), ("tar archive",)),
        Case("pickle", "p.pkl", _evil_pickle(), ("pickle",)),
        Case("gguf-as-predictions", "model.gguf", b"GGUF" + bytes(60), ("GGUF model file",)),
        # size: just over the predictions limit (refused as it is copied), and far over the
        # route's limit (refused from its Content-Length, before the body is read)
        Case("over-the-limit", "big.jsonl", b"x" * big + b"x", (f"big.jsonl: the file is larger than {LIMIT_MB} MB",), 413),
        Case("far-over-the-limit", "big.jsonl", b"x" * 3 * (MODEL_LIMIT_MB << 20), (f"larger than the {MODEL_LIMIT_MB} MB",), 413),
        # names: the sent name is shown (its last part) and never used as a path
        Case("name-traversal", "../../../../tmp/evil.jsonl", _with(2, LINES[0]), ("evil.jsonl:2:",)),
        Case("name-windows-traversal", "..\\..\\evil.csv", csv_text([rows[0], rows[0]]), ("evil.csv:3:", "duplicate id")),
        Case("name-dotdot", "..", b"", ("upload:", "empty")),
        Case("name-slash", "/", b"", ("upload:", "empty")),
        Case("name-header-injection", "a\r\nX-Evil: 1.jsonl", b"", ("X-Evil: 1.jsonl:", "empty")),
        Case("name-very-long", "n" * 1000 + ".jsonl", b"", ("n" * 100 + ":", "empty")),
        Case("name-huge", "n" * 20_000 + ".jsonl", b"", ("multipart",), code="http_error"),  # refused by the form parser
    ]  # fmt: skip


def model_cases() -> list[Case]:
    """Files sent as a GGUF model (the campaign accepts model files; :data:`LIMIT_MB` MB)."""
    torch_like = _zip(_evil_pickle(), "archive/data.pkl")
    return [
        Case(
            "model-not-gguf",
            "model.gguf",
            b"this is not a model\n",
            ("model.gguf:", "not a GGUF model file"),
            kind="model_file",
        ),
        Case(
            "model-pickle",
            "model.bin",
            _evil_pickle(),
            ("pickle-based checkpoint",),
            kind="model_file",
        ),
        Case(
            "model-torch-zip",
            "model.pt",
            torch_like,
            ("pickle-based checkpoint",),
            kind="model_file",
        ),
        Case(
            "model-safetensors",
            "model.safetensors",
            _safetensors(),
            ("safetensors",),
            kind="model_file",
        ),
        Case(
            "model-gzip",
            "model.gguf.gz",
            _gzip(b"GGUF" + bytes(60)),
            ("gzip-compressed",),
            kind="model_file",
        ),
        Case("model-empty", "model.gguf", b"", ("not a GGUF model file",), kind="model_file"),
        Case(
            "model-over-the-limit",
            "model.gguf",
            b"GGUF" + bytes(MODEL_LIMIT_MB << 20),
            (f"larger than {MODEL_LIMIT_MB} MB",),
            413,
            kind="model_file",
        ),
    ]


def endless_body(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``total`` bytes of a predictions-like body, made a chunk at a time (never held whole)."""
    line = b'{"id": "avis-001", "prediction": "positif"}\n'
    block = line * (chunk // len(line))
    sent = 0
    while sent < total:
        piece = block[: total - sent]
        sent += len(piece)
        yield piece
