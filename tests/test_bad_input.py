"""Bad input: predictions files and task files.

Every problem exits with status 2 and ``error: file:line: field: problem`` on stderr, and nothing
is written; the library raises the same :class:`InputError`. Valid files in every accepted
spelling (int ids, quoting, TSV, BOM, CRLF, blank trailing lines) score, and the pyarrow fast
path and the exact line-by-line path agree on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import palmares.cli._eval
import palmares.cli._tasks  # noqa: F401  (registers the sub-commands)
from palmares import InputError, Scorer, load_task, read_predictions
from palmares.cli import cli
from palmares.core import sha256_hex
from palmares.tasks import predictions as preds_mod

assert palmares.cli._eval  # imported for its side effect

LABELS = ["pos", "neg"] * 5
NUMBERS = [1.5, 2.0, 3.25, 4.0, 0.5, 7.0, 8.0, 2.5, 6.0, 10.0]
TEXTS = ["paris", "rome", "oslo", "lima", "bern", "kyiv", "riga", "doha", "baku", "apia"]

# kind → (metrics, dataset file name, dataset text, reference field)
_TASKS: dict[str, tuple[str, str, str, str]] = {
    "label": ("[accuracy, macro_f1]", "data.tsv", "id\ttext\tlabel\tgenre\n" + "".join(
        f"{i}\treview {i}\t{LABELS[i - 1]}\t{'drama' if i % 2 else 'comedy'}\n"
        for i in range(1, 11)), "label"),
    "number": ("[mae]", "data.jsonl", "".join(json.dumps(
        {"id": f"q{i}", "text": f"item {i}", "score": NUMBERS[i - 1], "band": "ab"[i % 2]}) + "\n"
        for i in range(1, 11)), "score"),
    "text": ("[exact_match]", "data.csv", "id,text,answer,band\n" + "".join(
        f'q{i},"capital, {i}?",{TEXTS[i - 1]},{"ab"[i % 2]}\n' for i in range(1, 11)), "answer"),
}
SLICE = {"label": "genre", "number": "band", "text": "band"}
FORMAT = {"label": "tsv", "number": "jsonl", "text": "csv"}

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


def write_task(folder: Path, kind: str, yaml_edit: tuple[str, str] | None = None,
               data_edit: tuple[str, str] | None = None) -> Path:
    metrics, file, data, ref = _TASKS[kind]
    text = TASK_YAML.format(kind=kind, file=file, fmt=FORMAT[kind], ref=ref, slice=SLICE[kind],
                            metrics=metrics)
    if yaml_edit:
        assert yaml_edit[0] in text, yaml_edit
        text = text.replace(*yaml_edit)
    if data_edit:
        assert data_edit[0] in data, data_edit
        data = data.replace(*data_edit)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(data, encoding="utf-8")
    path = folder / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def records(kind: str, int_ids: bool = False) -> list[dict[str, Any]]:
    """Perfect predictions for the task of ``kind``."""
    if kind == "label":
        return [{"id": i if int_ids else str(i), "prediction": LABELS[i - 1]} for i in range(1, 11)]
    values = NUMBERS if kind == "number" else TEXTS
    return [{"id": f"q{i}", "prediction": values[i - 1]} for i in range(1, 11)]


def jsonl(kind: str, replace: dict[int, Any] | None = None, drop: tuple[int, ...] = (),
          encoding: str = "utf-8") -> bytes:
    """A JSONL file; ``replace`` maps line numbers to an object or a raw line of text."""
    lines = [json.dumps(r) for r in records(kind)]
    for lineno, new in (replace or {}).items():
        lines[lineno - 1] = new if isinstance(new, str) else json.dumps(new, ensure_ascii=False)
    kept = [line for n, line in enumerate(lines, 1) if n not in drop]
    return ("\n".join(kept) + "\n").encode(encoding)


def delimited(kind: str, replace: dict[int, str] | None = None, drop: tuple[int, ...] = (),
              header: str = "id,prediction", sep: str = ",", encoding: str = "utf-8") -> bytes:
    """A CSV/TSV file; line 1 is the header, line n + 1 predicts item n."""
    lines = [header] + [f"{r['id']},{r['prediction']}" for r in records(kind)]
    for lineno, new in (replace or {}).items():
        lines[lineno - 1] = new
    kept = [line.replace(",", sep) for n, line in enumerate(lines, 1) if n not in drop]
    return ("\n".join(kept) + "\n").encode(encoding)


def _proba(i: int, pos: float) -> dict[str, Any]:
    return {"id": str(i), "prediction": LABELS[i - 1], "probabilities": {"pos": pos, "neg": 0.2}}


PROBA_OK = [_proba(i, 0.8) for i in range(1, 11)]
PROBA_HEADER = "id,prediction,probabilities.pos,probabilities.neg"
PROBA_CSV = [PROBA_HEADER] + [f"{i},{LABELS[i - 1]},0.8,0.2" for i in range(1, 11)]


def _lines(rows: list[Any], replace: dict[int, Any]) -> bytes:
    out = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    for lineno, new in replace.items():
        out[lineno - 1] = new if isinstance(new, str) else json.dumps(new)
    return ("\n".join(out) + "\n").encode()


# id, task kind, file name, content, line named (None: the whole file), words of the problem
BAD_PREDICTIONS = [
    ("jsonl-missing-id", "label", "p.jsonl", jsonl("label", drop=(10,)), None,
     ["missing predictions for 1 of 10", "'10'"]),
    ("jsonl-duplicate-id", "label", "p.jsonl", jsonl("label", {4: {"id": "2", "prediction": "x"}}),
     4, ["id:", "duplicate id '2'", "line 2"]),
    ("jsonl-unknown-id", "label", "p.jsonl", jsonl("label", {5: {"id": "zzz", "prediction": "x"}}),
     5, ["id:", "unknown id 'zzz'"]),
    ("jsonl-list-label", "label", "p.jsonl", jsonl("label", {3: {"id": "3", "prediction": ["x"]}}),
     3, ["prediction:", "expected a label", "a list"]),
    ("jsonl-float-label", "label", "p.jsonl", jsonl("label", {8: {"id": "8", "prediction": 1.5}}),
     8, ["prediction:", "expected a label", "a number"]),
    ("jsonl-null-prediction", "label", "p.jsonl",
     jsonl("label", {9: {"id": "9", "prediction": None}}), 9, ["prediction:", "null"]),
    ("jsonl-boolean-id", "label", "p.jsonl", jsonl("label", {1: {"id": True, "prediction": "x"}}),
     1, ["id:", "a boolean"]),
    ("jsonl-missing-prediction-key", "label", "p.jsonl",
     jsonl("label", {4: {"id": "4", "pred": "neg"}}), 4, ["prediction:", "missing"]),
    ("jsonl-invalid-json", "label", "p.jsonl", jsonl("label", {6: '{"id": "6", "prediction": '}),
     6, ["invalid json"]),
    ("jsonl-array-line", "label", "p.jsonl", jsonl("label", {2: '["2", "neg"]'}), 2,
     ["expected a json object", "a list"]),
    ("jsonl-latin1-line-3", "label", "p.jsonl",
     jsonl("label", {3: {"id": "3", "prediction": "café"}}, encoding="latin-1"), 3,
     ["not valid utf-8"]),
    ("jsonl-string-for-number", "number", "p.jsonl",
     jsonl("number", {6: {"id": "q6", "prediction": "high"}}), 6,
     ["prediction:", "expected a number", "'high'"]),
    ("jsonl-nan", "number", "p.jsonl", jsonl("number", {2: '{"id": "q2", "prediction": NaN}'}), 2,
     ["invalid json", "nan"]),
    ("jsonl-infinity", "number", "p.jsonl",
     jsonl("number", {7: '{"id": "q7", "prediction": Infinity}'}), 7, ["invalid json", "infinity"]),
    ("jsonl-all-nan", "number", "p.jsonl",
     _lines([f'{{"id": "q{i}", "prediction": NaN}}' for i in range(1, 11)], {}), 1, ["nan"]),
    ("jsonl-number-for-text", "text", "p.jsonl", jsonl("text", {3: {"id": "q3", "prediction": 42}}),
     3, ["prediction:", "expected text", "an integer"]),
    ("jsonl-empty", "label", "p.jsonl", b"", None, ["empty"]),
    ("jsonl-whitespace-only", "label", "p.jsonl", b"  \n\n\t \r\n", None, ["empty"]),
    ("jsonl-proba-sum", "label", "p.jsonl", _lines(PROBA_OK, {5: _proba(5, 0.9)}), 5,
     ["probabilities:", "sum to 1"]),
    ("jsonl-proba-some", "label", "p.jsonl",
     _lines(PROBA_OK, {2: {"id": "2", "prediction": "neg"}}), None, ["probabilities:", "not all"]),
    ("csv-missing-id", "label", "p.csv", delimited("label", drop=(11,)), None,
     ["missing predictions for 1 of 10", "'10'"]),
    ("csv-header-only", "label", "p.csv", b"id,prediction\n", None, ["missing", "10 of 10"]),
    ("csv-duplicate-id", "label", "p.csv", delimited("label", {5: "2,neg"}), 5,
     ["id:", "duplicate id '2'", "line 3"]),
    ("csv-unknown-id", "label", "p.csv", delimited("label", {6: "zzz,pos"}), 6,
     ["id:", "unknown id 'zzz'"]),
    ("csv-empty-label", "label", "p.csv", delimited("label", {4: "3,"}), 4,
     ["prediction:", "an empty string"]),
    ("csv-no-prediction-column", "label", "p.csv", delimited("label", header="id,label"), 1,
     ["prediction:", "no 'prediction' column"]),
    ("csv-field-count", "label", "p.csv", delimited("label", {7: "6,neg,extra"}), 7,
     ["3 fields where the header has 2"]),
    ("csv-latin1-line-3", "label", "p.csv", delimited("label", {3: "2,café"}, encoding="latin-1"),
     3, ["not valid utf-8"]),
    ("csv-non-number", "number", "p.csv", delimited("number", {4: "q3,high"}), 4,
     ["prediction:", "expected a number", "'high'"]),
    ("csv-nan", "number", "p.csv", delimited("number", {5: "q4,nan"}), 5, ["finite number"]),
    ("csv-empty", "label", "p.csv", b"", None, ["empty"]),
    ("csv-whitespace-only", "label", "p.csv", b"\n \n", None, ["empty"]),
    ("csv-proba-sum", "label", "p.csv",
     "\n".join([*PROBA_CSV[:3], "3,pos,0.5,0.2", *PROBA_CSV[4:]]).encode(), 4,
     ["probabilities:", "sum to 1"]),
    ("csv-proba-not-number", "label", "p.csv",
     "\n".join([*PROBA_CSV[:6], "6,neg,high,0.2", *PROBA_CSV[7:]]).encode(), 7,
     ["probabilities.pos:", "expected a number"]),
    ("tsv-no-prediction-column", "label", "p.tsv", delimited("label", header="id,pred", sep="\t"),
     1, ["no 'prediction' column"]),
    ("tsv-field-count", "label", "p.tsv", delimited("label", {9: "8"}, sep="\t"), 9,
     ["1 fields where the header has 2"]),
]


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tasks")
    return {kind: write_task(folder, kind) for kind in _TASKS}


@pytest.mark.parametrize(("kind", "name", "content", "line", "words"),
                         [pytest.param(*c[1:], id=c[0]) for c in BAD_PREDICTIONS])
def test_bad_predictions_exit_2_naming_line_and_problem(
    tmp_path: Path, tasks: dict[str, Path], kind: str, name: str, content: bytes,
    line: int | None, words: list[str],
) -> None:
    pred = tmp_path / name
    pred.write_bytes(content)
    out = tmp_path / "out"
    result = run_cli("eval", "--task", str(tasks[kind]), "--predictions", str(pred),
                     "--output", str(out))
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert err.startswith("error: ") and err.count("\n") == 1, err
    where = f"{pred}:{line}: " if line is not None else f"{pred}: "
    assert where in err, err
    for word in words:
        assert word.lower() in err.lower(), err
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())  # no stray temp folder

    # The library raises the same error, through the scorer and through read_predictions.
    task = load_task(tasks[kind])
    with pytest.raises(InputError) as exc:
        Scorer(task).score_file(str(pred))
    assert exc.value.line == line
    assert f"error: {exc.value}" == err.strip()
    with pytest.raises(InputError):
        read_predictions(pred, task.items(), task.value_kind)

    # The fast path never accepts a bad file: it gives up, and the exact path names the problem.
    if content.strip():
        assert _fast(content, name, task) is None


def _fast(raw: bytes, name: str, task: Any) -> Any:
    items = task.items()
    ids = preds_mod.pa.array(items.ids, type=preds_mod.pa.string())
    sep = {".csv": ",", ".tsv": "\t"}.get(Path(name).suffix)
    if sep:
        return preds_mod._fast_delimited(raw, sep, ids, task.value_kind)
    return preds_mod._fast_jsonl(raw, ids, task.value_kind)


def _exact(raw: bytes, name: str, task: Any) -> Any:
    sep = {".csv": ",", ".tsv": "\t"}.get(Path(name).suffix)
    recs = (preds_mod._exact_delimited(raw, sep, name, task.value_kind) if sep
            else preds_mod._exact_jsonl(raw, name, task.value_kind))
    return preds_mod._align(recs, task.items(), name, sha256_hex(raw))


def _crlf(b: bytes) -> bytes:
    return b.replace(b"\n", b"\r\n")


def _int_ids() -> bytes:
    return ("\n".join(json.dumps(r) for r in records("label", int_ids=True)) + "\n").encode()


def _quoted() -> bytes:
    return ("id,prediction\n" + "".join(f'"{i}","{LABELS[i - 1]}"\n' for i in range(1, 11))).encode()


# id, task kind, file name, content, whether the fast path takes it
GOOD_PREDICTIONS = [
    ("jsonl", "label", "p.jsonl", jsonl("label"), True),
    ("jsonl-int-ids", "label", "p.jsonl", _int_ids(), True),
    ("jsonl-bom", "label", "p.jsonl", b"\xef\xbb\xbf" + jsonl("label"), True),
    ("jsonl-crlf", "label", "p.jsonl", _crlf(jsonl("label")), True),
    ("jsonl-blank-trailing-lines", "label", "p.jsonl", jsonl("label") + b"\n\n  \n", True),
    ("jsonl-probabilities", "label", "p.jsonl", _lines(PROBA_OK, {}), False),
    ("jsonl-number", "number", "p.jsonl", jsonl("number"), True),
    ("jsonl-number-int", "number", "p.jsonl",
     _lines([{"id": f"q{i}", "prediction": i} for i in range(1, 11)], {}), True),
    ("jsonl-text", "text", "p.jsonl", jsonl("text"), True),
    ("csv", "label", "p.csv", delimited("label"), True),
    ("csv-quoted", "label", "p.csv", _quoted(), True),
    ("csv-quoted-comma", "text", "p.csv",
     ("id,prediction\n" + "".join(f'q{i},"{t}, x"\n' for i, t in enumerate(TEXTS, 1))).encode(),
     True),
    ("csv-bom", "label", "p.csv", b"\xef\xbb\xbf" + delimited("label"), True),
    ("csv-crlf", "label", "p.csv", _crlf(delimited("label")), True),
    ("csv-blank-trailing-lines", "label", "p.csv", delimited("label") + b"\n\n", True),
    ("csv-probabilities", "label", "p.csv", "\n".join(PROBA_CSV).encode(), False),
    ("csv-number", "number", "p.csv", delimited("number"), True),
    ("tsv", "label", "p.tsv", delimited("label", sep="\t"), True),
    ("tsv-crlf-bom", "number", "p.tsv", b"\xef\xbb\xbf" + _crlf(delimited("number", sep="\t")),
     True),
]


@pytest.mark.parametrize(("kind", "name", "content", "fast_takes_it"),
                         [pytest.param(*c[1:], id=c[0]) for c in GOOD_PREDICTIONS])
def test_good_predictions_score_and_both_paths_agree(
    tmp_path: Path, tasks: dict[str, Path], kind: str, name: str, content: bytes,
    fast_takes_it: bool,
) -> None:
    pred = tmp_path / name
    pred.write_bytes(content)
    out = tmp_path / "out"
    result = run_cli("eval", "--task", str(tasks[kind]), "--predictions", str(pred),
                     "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    scores = json.loads((out / "results.json").read_text(encoding="utf-8"))["scores"]
    metric = {"label": "accuracy", "number": "mae", "text": "exact_match"}[kind]
    if "comma" not in name and "int" not in pred.stem:
        assert scores[metric]["value"] == (0.0 if kind == "number" else 1.0)
    assert len((out / "items.jsonl").read_text(encoding="utf-8").splitlines()) == 10

    task = load_task(tasks[kind])
    fast = _fast(content, name, task)
    exact = _exact(content, name, task).values
    assert (fast is not None) == fast_takes_it
    if fast is not None:
        assert fast.to_pylist() == list(exact)
    library = read_predictions(pred, task.items(), task.value_kind)
    values = library.values.to_pylist() if fast is not None else library.values
    assert values == list(exact)


def test_int_prediction_ids_match_string_dataset_ids(tmp_path: Path, tasks: dict[str, Path]) -> None:
    pred = tmp_path / "p.jsonl"
    pred.write_bytes(_int_ids())
    result = Scorer(load_task(tasks["label"])).score_file(str(pred))
    assert result.table.scores["accuracy"].value == 1.0


# --- task files ---------------------------------------------------------------------------------

# id, edit of the YAML, edit of the dataset, file named ("task" or "data"), line, field, words
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
    ("dataset-not-found", ("path: data.tsv", "path: nope.tsv"), None, "task", None, "dataset",
     ["not found", "nope.tsv"]),
    ("unknown-input-column", ("[text]", "[txt]"), None, "data", None, "dataset.input_fields",
     ["no column 'txt'", "columns: id, text, label, genre"]),
    ("duplicate-dataset-id", None, ("4\treview 4", "2\treview 4"), "data", 5, "id",
     ["duplicate id '2'", "line/row 3"]),
    ("missing-reference", None, ("3\treview 3\tpos", "3\treview 3\t"), "data", 4, "label",
     ["missing reference"]),
]


@pytest.mark.parametrize(("yaml_edit", "data_edit", "named", "line", "field", "words"),
                         [pytest.param(*c[1:], id=c[0]) for c in BAD_TASKS])
def test_bad_task_exits_2_naming_file_line_and_field(
    tmp_path: Path, yaml_edit: tuple[str, str] | None, data_edit: tuple[str, str] | None,
    named: str, line: int | None, field: str | None, words: list[str],
) -> None:
    path = write_task(tmp_path, "label", yaml_edit, data_edit)
    result = run_cli("tasks", "validate", str(path))
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert err.startswith("error: ") and err.count("\n") == 1, err
    file = str(path) if named == "task" else str(tmp_path / "data.tsv")
    assert file in err, err
    if line is not None:
        assert f"{file}:{line}: " in err, err
    if field is not None:
        assert f" {field}: " in err, err
    for word in words:
        assert word.lower() in err.lower(), err

    with pytest.raises(InputError) as exc:
        task = load_task(path)
        Scorer(task)
    assert f"error: {exc.value}" == err.strip()


def test_yaml_python_tag_is_refused_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tag = f'title: !!python/object/apply:os.system ["touch {marker}"]'
    path = write_task(tmp_path, "label", ("title: Demo", tag))
    result = run_cli("tasks", "validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: " in result.stderr and "invalid yaml" in result.stderr.lower()
    with pytest.raises(InputError):
        load_task(path)
    assert not marker.exists()


def test_good_tasks_validate(tasks: dict[str, Path]) -> None:
    result = run_cli("tasks", "validate", *map(str, tasks.values()))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("✓") == 3
