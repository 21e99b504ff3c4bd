"""The `palmares` command, in-process, on the bundled example and on generated tasks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

import palmares.cli._eval
import palmares.cli._tasks  # noqa: F401  (registers sub-commands)
from palmares import __version__, load_task
from palmares.cli import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "palmares" / "examples" / "avis-fr"


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_eval_example_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, _ = _run(
        "eval", "--task", str(EXAMPLE / "task.yaml"),
        "--predictions", str(EXAMPLE / "baseline.jsonl"), "--output", str(out),
    )  # fmt: skip
    assert code == 0, stdout
    assert "accuracy" in stdout and "95% CI" in stdout and "domaine=film" in stdout
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(results) >= {
        "task", "dataset_hash", "predictions_hash", "palmares_version", "scores", "slices",
    }  # fmt: skip
    assert results["task"]["id"] == "avis-fr" and results["task"]["version"] == 1
    assert results["palmares_version"] == __version__
    acc = results["scores"]["accuracy"]
    assert set(acc) >= {"value", "ci", "n"} and acc["n"] == 48
    assert acc["ci"][0] <= acc["value"] <= acc["ci"][1]
    assert set(results["slices"]["domaine"]) == {"film", "livre", "restaurant"}
    assert results["slices"]["domaine"]["film"]["accuracy"]["n"] == 16
    lines = (out / "items.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 48
    first = json.loads(lines[0])
    assert set(first) == {"id", "prediction", "scores"} and "accuracy" in first["scores"]


def test_eval_is_deterministic(tmp_path: Path) -> None:
    args = ["eval", "--task", str(EXAMPLE / "task.yaml"),
            "--predictions", str(EXAMPLE / "baseline.jsonl")]  # fmt: skip
    assert _run(*args, "--output", str(tmp_path / "a"))[0] == 0
    assert _run(*args, "--output", str(tmp_path / "b"))[0] == 0
    a = (tmp_path / "a" / "results.json").read_text(encoding="utf-8")
    assert a == (tmp_path / "b" / "results.json").read_text(encoding="utf-8")
    # another seed moves bootstrap intervals, not values
    assert _run(*args, "--output", str(tmp_path / "c"), "--seed", "7")[0] == 0
    c = json.loads((tmp_path / "c" / "results.json").read_text(encoding="utf-8"))
    a_json = json.loads(a)
    assert c["scores"]["macro_f1"]["value"] == a_json["scores"]["macro_f1"]["value"]
    assert c["scores"]["macro_f1"]["ci"] != a_json["scores"]["macro_f1"]["ci"]


def test_tasks_show_and_validate() -> None:
    code, stdout, _ = _run("tasks", "show", str(EXAMPLE / "task.yaml"))
    assert code == 0
    assert "48 items" in stdout and "slice domaine" in stdout and "dataset hash" in stdout
    code, stdout, _ = _run("tasks", "validate", str(EXAMPLE / "task.yaml"))
    assert code == 0 and "avis-fr" in stdout


def test_metrics_lists_registry() -> None:
    code, stdout, _ = _run("metrics")
    assert code == 0 and "macro_f1" in stdout and "chrf" in stdout


def _task_files(tmp_path: Path, rows: list[dict[str, str]], name: str, fmt: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    if fmt == "jsonl":
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        data = "id\ttext\tlabel\n" + "".join(
            f"{r['id']}\t{r['text']}\t{r['label']}\n" for r in rows
        )
    (folder / f"data.{fmt}").write_text(data, encoding="utf-8")
    (folder / "task.yaml").write_text(
        f"""
id: toy
version: 1
title: Toy
language: fr
license: CC0-1.0
dataset: {{path: data.{fmt}, format: {fmt}, id_field: id, input_fields: [text],
           reference_field: label}}
metrics: [accuracy]
""",
        encoding="utf-8",
    )
    return folder / "task.yaml"


def test_dataset_hash_is_order_and_format_independent(tmp_path: Path) -> None:
    rows = [{"id": f"t{i}", "text": f"phrase {i}", "label": "oui" if i % 2 else "non"}
            for i in range(30)]  # fmt: skip
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    a = load_task(_task_files(tmp_path, rows, "a", "jsonl"))
    b = load_task(_task_files(tmp_path, shuffled, "b", "tsv"))
    assert a.dataset_hash() == b.dataset_hash()
    assert a.hash == b.hash  # the folder differs, the meaning does not
    changed = [dict(r) for r in rows]
    changed[3]["label"] = "oui" if changed[3]["label"] == "non" else "non"
    c = load_task(_task_files(tmp_path, changed, "c", "jsonl"))
    assert c.dataset_hash() != a.dataset_hash()
    d = load_task(
        _task_files(tmp_path, rows + rows[:1], "d", "jsonl"),
    )
    with pytest.raises(Exception, match="duplicate id"):
        d.dataset_hash()


def test_task_hash_changes_with_metrics(tmp_path: Path) -> None:
    rows = [{"id": f"t{i}", "text": "x", "label": "a"} for i in range(3)]
    path = _task_files(tmp_path, rows, "a", "jsonl")
    h1 = load_task(path).hash
    path.write_text(path.read_text().replace("[accuracy]", "[accuracy, macro_f1]"))
    assert load_task(path).hash != h1
