"""Bad input: predictions files and task files.

Every problem exits with status 2 and one line ``error: file:line: field: problem`` on stderr,
and nothing is written; the library raises the same :class:`InputError`. Valid files in every
accepted spelling (int ids, quoting, TSV, BOM, CRLF, blank trailing lines) score, and the pyarrow
fast path and the exact line-by-line path agree on them.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import palmares.cli._eval
import palmares.cli._tasks
from palmares import InputError, Scorer, Task, load_task, read_predictions
from palmares.cli import cli
from palmares.core import sha256_hex
from palmares.tasks import IdIndex
from palmares.tasks import _fast_path as fp
from palmares.tasks import predictions as pr

assert palmares.cli._eval and palmares.cli._tasks  # imported to register the sub-commands

LABELS = ["pos", "neg"] * 5
NUMBERS = [1.5, 2.0, 3.25, 4.0, 0.5, 7.0, 8.0, 2.5, 6.0, 10.0]
TEXTS = ["paris", "rome", "oslo", "lima", "bern", "kyiv", "riga", "doha", "baku", "apia"]
N = range(1, 11)

# kind → (metrics, format, dataset file, dataset text, reference field, slice field)
# fmt: off
TASKS = {
    "label": ("[accuracy, macro_f1]", "tsv", "data.tsv", "id\ttext\tlabel\tgenre\n" + "".join(
        f"{i}\treview {i}\t{LABELS[i - 1]}\t{'drama' if i % 2 else 'comedy'}\n" for i in N),
        "label", "genre"),
    "number": ("[mae]", "jsonl", "data.jsonl", "".join(json.dumps(
        {"id": f"q{i}", "text": f"item {i}", "score": NUMBERS[i - 1], "band": "ab"[i % 2]}) + "\n"
        for i in N), "score", "band"),
    "text": ("[exact_match]", "csv", "data.csv", "id,text,answer,band\n" + "".join(
        f'q{i},"capital, {i}?",{TEXTS[i - 1]},{"ab"[i % 2]}\n' for i in N), "answer", "band"),
}
# fmt: on

TASK_YAML = """\
id: demo-{kind}
version: 1
title: Demo
language: en
license: CC0-1.0
dataset:
  path: {file}
  format: {fmt}
  id_field: id
  input_fields: [text]
  reference_field: {ref}
  slice_fields: [{slice}]
metrics: {metrics}
statistics:
  bootstrap: 100
"""


def write_task(folder: Path, kind: str, yaml_edit: Any = None, data_edit: Any = None) -> Path:
    """Write the task of ``kind`` and its dataset; an edit is an (old, new) text replacement."""
    metrics, fmt, file, data, ref, slice_ = TASKS[kind]
    text = TASK_YAML.format(kind=kind, file=file, fmt=fmt, ref=ref, slice=slice_, metrics=metrics)
    if yaml_edit:
        assert yaml_edit[0] in text, yaml_edit
        text = text.replace(*yaml_edit)
    if data_edit:
        assert data_edit[0] in data, data_edit
        data = data.replace(*data_edit)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(data, encoding="utf-8")
    (path := folder / f"{kind}.yaml").write_text(text, encoding="utf-8")
    return path


def records(kind: str, int_ids: bool = False) -> list[dict[str, Any]]:
    """Perfect predictions for the task of ``kind``."""
    if kind == "label":
        return [{"id": i if int_ids else str(i), "prediction": LABELS[i - 1]} for i in N]
    values = NUMBERS if kind == "number" else TEXTS
    return [{"id": f"q{i}", "prediction": values[i - 1]} for i in N]


def lines(rows: list[Any], replace: Any = None, drop: Any = (), enc: str = "utf-8") -> bytes:
    """Rows (objects or raw text) → file; ``replace`` maps a line number to a new row."""
    out = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    for lineno, new in (replace or {}).items():
        out[lineno - 1] = new if isinstance(new, str) else json.dumps(new, ensure_ascii=False)
    return ("\n".join(x for n, x in enumerate(out, 1) if n not in drop) + "\n").encode(enc)


def jl(kind: str, replace: Any = None, **kw: Any) -> bytes:
    """A JSONL file of perfect predictions, edited."""
    return lines(records(kind), replace, **kw)


def dl(kind: str, replace: Any = None, header: str = "id,prediction", sep: str = ",",
       **kw: Any) -> bytes:  # fmt: skip
    """A CSV (TSV with sep) file of perfect predictions: line 1 is the header, n + 1 item n."""
    rows = [header] + [f"{r['id']},{r['prediction']}" for r in records(kind)]
    rows = [r.replace(",", sep) for r in rows]
    return lines(rows, {k: v.replace(",", sep) for k, v in (replace or {}).items()}, **kw)


def proba(i: int, pos: float = 0.8) -> dict[str, Any]:
    return {"id": str(i), "prediction": LABELS[i - 1], "probabilities": {"pos": pos, "neg": 0.2}}


PROBA_JSONL = [proba(i) for i in N]
PROBA_CSV = ["id,prediction,probabilities.pos,probabilities.neg"]
PROBA_CSV += [f"{i},{LABELS[i - 1]},0.8,0.2" for i in N]
CRLF = (b"\n", b"\r\n")
BOM = b"\xef\xbb\xbf"


def DEEP_ID(depth: int) -> str:
    """A line whose id is ``depth`` nested lists, as the outside probe sent (issue #13)."""
    return '{"id":' + "[" * depth + "]" * depth + ',"prediction":"pos"}'


# id, task kind, file name, content, line named (None: the whole file), words of the problem
# fmt: off
BAD_PREDICTIONS = [
    ("jsonl-missing-id", "label", "p.jsonl", jl("label", drop=(10,)), None,
     ["missing predictions for 1 of 10", "'10'"]),
    ("jsonl-duplicate-id", "label", "p.jsonl", jl("label", {4: {"id": "2", "prediction": "x"}}),
     4, ["id:", "duplicate id '2'", "line 2"]),
    ("jsonl-unknown-id", "label", "p.jsonl", jl("label", {5: {"id": "zz", "prediction": "x"}}),
     5, ["id:", "unknown id 'zz'"]),
    ("jsonl-list-label", "label", "p.jsonl", jl("label", {3: {"id": "3", "prediction": ["x"]}}),
     3, ["prediction:", "expected a label", "a list"]),
    ("jsonl-float-label", "label", "p.jsonl", jl("label", {8: {"id": "8", "prediction": 1.5}}),
     8, ["prediction:", "expected a label", "a number"]),
    ("jsonl-null-prediction", "label", "p.jsonl", jl("label", {9: {"id": "9", "prediction": None}}),
     9, ["prediction:", "null"]),
    ("jsonl-boolean-id", "label", "p.jsonl", jl("label", {1: {"id": True, "prediction": "x"}}),
     1, ["id:", "a boolean"]),
    ("jsonl-no-prediction-key", "label", "p.jsonl", jl("label", {4: {"id": "4", "pred": "neg"}}),
     4, ["prediction:", "missing"]),
    ("jsonl-invalid-json", "label", "p.jsonl", jl("label", {6: '{"id": "6", "prediction": '}),
     6, ["invalid json"]),
    ("jsonl-array-line", "label", "p.jsonl", jl("label", {2: '["2", "neg"]'}), 2,
     ["expected a json object", "a list"]),
    ("jsonl-latin1-line-3", "label", "p.jsonl",
     jl("label", {3: {"id": "3", "prediction": "café"}}, enc="latin-1"), 3, ["not valid utf-8"]),
    ("jsonl-string-for-number", "number", "p.jsonl",
     jl("number", {6: {"id": "q6", "prediction": "high"}}), 6,
     ["prediction:", "expected a number", "'high'"]),
    ("jsonl-nan", "number", "p.jsonl", jl("number", {2: '{"id": "q2", "prediction": NaN}'}), 2,
     ["invalid json", "nan"]),
    ("jsonl-infinity", "number", "p.jsonl",
     jl("number", {7: '{"id": "q7", "prediction": Infinity}'}), 7, ["invalid json", "infinity"]),
    ("jsonl-all-nan", "number", "p.jsonl",
     lines([f'{{"id": "q{i}", "prediction": NaN}}' for i in N]), 1, ["nan"]),
    ("jsonl-number-for-text", "text", "p.jsonl", jl("text", {3: {"id": "q3", "prediction": 42}}),
     3, ["prediction:", "expected text", "an integer"]),
    ("jsonl-empty", "label", "p.jsonl", b"", None, ["empty"]),
    ("jsonl-whitespace-only", "label", "p.jsonl", b"  \n\n\t \r\n", None, ["empty"]),
    ("jsonl-bom-only", "label", "p.jsonl", BOM + b"\n", None, ["empty"]),
    ("jsonl-proba-sum", "label", "p.jsonl", lines(PROBA_JSONL, {5: proba(5, 0.9)}), 5,
     ["probabilities:", "sum to 1"]),
    ("jsonl-proba-some", "label", "p.jsonl", lines(PROBA_JSONL, {2: records("label")[1]}), None,
     ["probabilities:", "not all"]),
    ("csv-missing-id", "label", "p.csv", dl("label", drop=(11,)), None,
     ["missing predictions for 1 of 10", "'10'"]),
    ("csv-header-only", "label", "p.csv", b"id,prediction\n", None, ["missing", "10 of 10"]),
    ("csv-duplicate-id", "label", "p.csv", dl("label", {5: "2,neg"}), 5,
     ["id:", "duplicate id '2'", "line 3"]),
    ("csv-unknown-id", "label", "p.csv", dl("label", {6: "zz,pos"}), 6, ["id:", "unknown id 'zz'"]),
    ("csv-empty-label", "label", "p.csv", dl("label", {4: "3,"}), 4,
     ["prediction:", "an empty string"]),
    ("csv-no-prediction-column", "label", "p.csv", dl("label", header="id,label"), 1,
     ["prediction:", "no 'prediction' column"]),
    ("csv-duplicate-column", "label", "p.csv", dl("label", header="id,prediction,prediction"), 1,
     ["duplicate column"]),
    ("csv-field-count", "label", "p.csv", dl("label", {7: "6,neg,extra"}), 7,
     ["3 fields where the header has 2"]),
    ("csv-latin1-line-3", "label", "p.csv", dl("label", {3: "2,café"}, enc="latin-1"), 3,
     ["not valid utf-8"]),
    ("csv-non-number", "number", "p.csv", dl("number", {4: "q3,high"}), 4,
     ["prediction:", "expected a number", "'high'"]),
    ("csv-nan", "number", "p.csv", dl("number", {5: "q4,nan"}), 5, ["finite number"]),
    ("csv-empty", "label", "p.csv", b"", None, ["empty"]),
    ("csv-whitespace-only", "label", "p.csv", b"\n \n", None, ["empty"]),
    ("csv-proba-sum", "label", "p.csv", lines(PROBA_CSV, {4: "3,pos,0.5,0.2"}), 4,
     ["probabilities:", "sum to 1"]),
    ("csv-proba-not-number", "label", "p.csv", lines(PROBA_CSV, {7: "6,neg,high,0.2"}), 7,
     ["probabilities.pos:", "expected a number"]),
    ("tsv-no-prediction-column", "label", "p.tsv", dl("label", header="id,pred", sep="\t"), 1,
     ["no 'prediction' column"]),
    ("tsv-field-count", "label", "p.tsv", dl("label", {9: "8"}, sep="\t"), 9,
     ["1 fields where the header has 2"]),
    # nesting bombs: pyarrow's JSON reader crashed the process on them (issue #13); the fast
    # path leaves every line of more than MAX_FAST_DEPTH opening brackets to the exact path
    ("jsonl-nested-id-20000", "label", "p.jsonl", jl("label", {1: DEEP_ID(20_000)}), 1,
     ["invalid json", "nested too deeply"]),
    ("jsonl-nested-id-100000", "label", "p.jsonl", jl("label", {4: DEEP_ID(100_000)}), 4,
     ["invalid json", "nested too deeply"]),
    ("jsonl-nested-objects", "label", "p.jsonl",
     jl("label", {2: '{"id": "2", "prediction": ' + '{"a":' * 30_000 + "1" + "}" * 30_001}), 2,
     ["invalid json", "nested too deeply"]),
    ("jsonl-nested-65", "label", "p.jsonl", jl("label", {3: DEEP_ID(fp.MAX_FAST_DEPTH + 1)}), 3,
     ["id:", "a list"]),
    ("jsonl-new-key-each-line", "label", "p.jsonl",
     lines([{**r, f"k{i}": 1} for i, r in enumerate(records("label"))], {7: {"id": "6"}}), 7,
     ["prediction:", "missing"]),
    ("csv-multiline-field-over-limit", "text", "p.csv",
     dl("text", {3: 'q2,"' + ("y" * 999 + "\n") * 140 + '"'}), 134,
     ["field larger than field limit"]),
    ("csv-wide-rows", "label", "p.csv", dl("label", {2: "1,pos" + ",x" * 100_000}), 2,
     ["100002 fields where the header has 2"]),
]

# id, task kind, file name, content, whether the fast path takes it, primary score
GOOD_PREDICTIONS = [
    ("jsonl", "label", "p.jsonl", jl("label"), True, 1.0),
    ("jsonl-int-ids", "label", "p.jsonl", lines(records("label", int_ids=True)), True, 1.0),
    ("jsonl-bom", "label", "p.jsonl", BOM + jl("label"), True, 1.0),
    ("jsonl-crlf", "label", "p.jsonl", jl("label").replace(*CRLF), True, 1.0),
    ("jsonl-blank-trailing-lines", "label", "p.jsonl", jl("label") + b"\n\n  \n", True, 1.0),
    ("jsonl-probabilities", "label", "p.jsonl", lines(PROBA_JSONL), False, 1.0),
    ("jsonl-number", "number", "p.jsonl", jl("number"), True, 0.0),
    ("jsonl-number-int", "number", "p.jsonl",
     lines([{"id": f"q{i}", "prediction": round(NUMBERS[i - 1])} for i in N]), True, 0.175),
    ("jsonl-text", "text", "p.jsonl", jl("text"), True, 1.0),
    ("csv", "label", "p.csv", dl("label"), True, 1.0),
    ("csv-quoted", "label", "p.csv",
     lines(["id,prediction"] + [f'"{i}","{LABELS[i - 1]}"' for i in N]), True, 1.0),
    ("csv-quoted-comma", "text", "p.csv",
     lines(["id,prediction"] + [f'q{i},"{TEXTS[i - 1]}, x"' for i in N]), True, 0.0),
    ("csv-bom", "label", "p.csv", BOM + dl("label"), True, 1.0),
    ("csv-crlf", "label", "p.csv", dl("label").replace(*CRLF), True, 1.0),
    ("csv-blank-trailing-lines", "label", "p.csv", dl("label") + b"\n\n", True, 1.0),
    ("csv-probabilities", "label", "p.csv", lines(PROBA_CSV), False, 1.0),
    ("csv-number", "number", "p.csv", dl("number"), True, 0.0),
    ("tsv", "label", "p.tsv", dl("label", sep="\t"), True, 1.0),
    ("tsv-crlf-bom", "number", "p.tsv", BOM + dl("number", sep="\t").replace(*CRLF), True, 0.0),
    # the fast path's bounds: over one, the exact path reads the file (and agrees)
    ("jsonl-brackets-in-text", "text", "p.jsonl",
     jl("text", {2: {"id": "q2", "prediction": "[{" * 40}}), False, 0.9),
    ("jsonl-number-int-first", "number", "p.jsonl",
     jl("number", {1: '{"id": "q1", "prediction": 2}'}), True, 0.05),
    ("jsonl-extra-key-later", "label", "p.jsonl", jl("label", {5: {"id": "5", "prediction": "pos",
     "note": 1}}), False, 1.0),
    ("csv-wide-header", "label", "p.csv", lines(
     ["id,prediction," + ",".join(f"c{i}" for i in range(fp.MAX_FAST_FIELDS))]
     + [f"{i},{LABELS[i - 1]}" + "," * fp.MAX_FAST_FIELDS for i in N]), False, 1.0),
]
# fmt: on


def params(cases: list[tuple[Any, ...]]) -> list[Any]:
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_error_line(result: Any) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return str(result.stderr)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tasks")
    return {kind: write_task(folder, kind) for kind in TASKS}


def _fast(raw: bytes, name: str, task: Task) -> Any:
    ids = IdIndex(pr.pa.array(task.items().ids, type=pr.pa.string()))
    buf = pr.pa.py_buffer(raw)
    pool = ThreadPoolExecutor(max_workers=1)
    facts = fp.SecondCore(buf, pool)
    if sep := {".csv": ",", ".tsv": "\t"}.get(Path(name).suffix):
        return fp.fast_delimited(buf, facts, sep, ids, task.value_kind)
    return fp.fast_jsonl(buf, facts, ids, task.value_kind)


def _exact(raw: bytes, name: str, task: Task) -> Any:
    if sep := {".csv": ",", ".tsv": "\t"}.get(Path(name).suffix):
        recs = pr._exact_delimited(raw, sep, name, task.value_kind)
    else:
        recs = pr._exact_jsonl(raw, name, task.value_kind)
    return pr._align(recs, task.items(), name, sha256_hex(raw))


@pytest.mark.parametrize(("kind", "name", "content", "line", "words"), params(BAD_PREDICTIONS))
def test_bad_predictions_exit_2_naming_line_and_problem(
    tmp_path: Path, tasks: dict[str, Path], kind: str, name: str, content: bytes, line: Any,
    words: list[str],
) -> None:  # fmt: skip
    (pred := tmp_path / name).write_bytes(content)
    out = tmp_path / "out"
    err = one_error_line(run_cli("eval", "--task", str(tasks[kind]), "--predictions", str(pred),
                                 "--output", str(out)))  # fmt: skip
    assert (f"{pred}:{line}: " if line is not None else f"{pred}: ") in err, err
    for word in words:
        assert word.lower() in err.lower(), err
    assert list(tmp_path.iterdir()) == [pred]  # no output folder, no temporary one either

    # The library raises the same error, through the scorer and through read_predictions.
    task = load_task(tasks[kind])
    with pytest.raises(InputError) as exc:
        Scorer(task).score_file(str(pred))
    assert exc.value.line == line and f"error: {exc.value}" == err.strip()
    with pytest.raises(InputError):
        read_predictions(pred, task.items(), task.value_kind)
    # The fast path never accepts a bad file: it gives up and the exact path names the problem.
    if content.strip():
        assert _fast(content, name, task) is None


def test_two_objects_on_one_line_is_refused(tmp_path: Path, tasks: dict[str, Path]) -> None:
    first, second = (json.dumps(r) for r in records("label")[:2])
    (pred := tmp_path / "p.jsonl").write_bytes(jl("label", {1: f"{first} {second}"}, drop=(2,)))
    task = load_task(tasks["label"])
    with pytest.raises(InputError, match=r"p\.jsonl:1: invalid JSON"):
        read_predictions(pred, task.items(), task.value_kind)


@pytest.mark.parametrize(("kind", "name", "content", "fast", "score"), params(GOOD_PREDICTIONS))
def test_good_predictions_score_and_both_paths_agree(
    tmp_path: Path, tasks: dict[str, Path], kind: str, name: str, content: bytes, fast: bool,
    score: float,
) -> None:  # fmt: skip
    (pred := tmp_path / name).write_bytes(content)
    out = tmp_path / "out"
    result = run_cli("eval", "--task", str(tasks[kind]), "--predictions", str(pred),
                     "--output", str(out))  # fmt: skip
    assert result.exit_code == 0 and result.stderr == "", result.output
    scores = json.loads((out / "results.json").read_text(encoding="utf-8"))["scores"]
    metric = {"label": "accuracy", "number": "mae", "text": "exact_match"}[kind]
    assert scores[metric]["value"] == pytest.approx(score)
    assert len((out / "items.jsonl").read_text(encoding="utf-8").splitlines()) == 10

    task = load_task(tasks[kind])
    exact = list(_exact(content, name, task).values)
    fast_values = _fast(content, name, task)
    assert (fast_values is not None) == fast
    if fast_values is not None:
        assert fast_values.to_pylist() == exact
    values = read_predictions(pred, task.items(), task.value_kind).values
    assert (values.to_pylist() if fast else values) == exact


# --- task files ---------------------------------------------------------------------------------

# id, YAML edit, dataset edit, file named ("task" or "data"), line (None: none), field, words
# fmt: off
BAD_TASKS = [
    ("unknown-key", ("metrics:", "metricz:"), None, "task", 13, "metricz", ["unknown key"]),
    ("missing-reference-field", ("  reference_field: label\n", ""), None, "task", 6,
     "dataset.reference_field", ["required"]),
    ("wrong-type", ("version: 1", "version: one"), None, "task", 2, "version", ["integer"]),
    ("unknown-metric", ("macro_f1]", "macro_f2]"), None, "task", 13, "metrics.1",
     ["unknown metric 'macro_f2'", "accuracy"]),
    ("unknown-format", ("format: tsv", "format: xlsx"), None, "task", 8, "dataset.format",
     ["unknown format 'xlsx'", "tsv"]),
    ("unknown-protocol", ("metrics:", "protocol:\n  type: telepathy\nmetrics:"), None, "task", 14,
     "protocol.type", ["unknown protocol 'telepathy'"]),
    ("mixed-kinds", ("macro_f1]", "mae]"), None, "task", 13, "metrics", ["different kinds"]),
    ("metric-twice", ("macro_f1]", "accuracy]"), None, "task", 13, "metrics", ["listed twice"]),
    ("bad-at-k", ("macro_f1]", "ndcg@x]"), None, "task", 13, "metrics",
     ["'ndcg@x'", "positive integer"]),
    ("yaml-syntax", ("  format: tsv", "  format: [tsv"), None, "task", 9, None, ["invalid yaml"]),
    ("dataset-not-found", ("path: data.tsv", "path: nope.tsv"), None, "task", 7, "dataset.path",
     ["not found", "nope.tsv"]),
    ("unknown-input-column", ("[text]", "[txt]"), None, "task", 10, "dataset.input_fields",
     ["no column 'txt'", "columns: id, text, label, genre"]),
    ("duplicate-dataset-id", None, ("4\treview 4", "2\treview 4"), "data", 5, "id",
     ["duplicate id '2'", "line/row 3"]),
    ("missing-reference", None, ("3\treview 3\tpos", "3\treview 3\t"), "data", 4, "label",
     ["missing reference"]),
]
# fmt: on


@pytest.mark.parametrize(("yaml_edit", "data_edit", "named", "line", "field", "words"),
                         params(BAD_TASKS))  # fmt: skip
def test_bad_task_exits_2_naming_file_line_and_field(
    tmp_path: Path, yaml_edit: Any, data_edit: Any, named: str, line: Any, field: Any,
    words: list[str],
) -> None:  # fmt: skip
    path = write_task(tmp_path, "label", yaml_edit, data_edit)
    err = one_error_line(run_cli("tasks", "validate", str(path)))
    file = str(path) if named == "task" else str(tmp_path / "data.tsv")
    assert file in err, err
    if line is not None:
        assert f"{file}:{line}: " in err, err
    if field is not None:
        assert f" {field}: " in err, err
    for word in words:
        assert word.lower() in err.lower(), err
    with pytest.raises(InputError) as exc:
        Scorer(load_task(path))
    assert f"error: {exc.value}" == err.strip()


def test_yaml_python_tag_is_refused_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tag = f'title: !!python/object/apply:os.system ["touch {marker}"]'
    path = write_task(tmp_path, "label", ("title: Demo", tag))
    err = one_error_line(run_cli("tasks", "validate", str(path)))
    assert f"{path}:3: " in err and "invalid yaml" in err.lower(), err
    with pytest.raises(InputError):
        load_task(path)
    assert not marker.exists()


def test_good_tasks_validate(tasks: dict[str, Path]) -> None:
    result = run_cli("tasks", "validate", *map(str, tasks.values()))
    assert result.exit_code == 0, result.output
    assert result.stdout.count("✓") == 3
