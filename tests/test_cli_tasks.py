"""Every command that takes a task takes a pack task id or a file (issue #14), and ``palmares
eval`` scores several tasks in one run: ``--task a --task b`` or ``--task a,b``, one summary
table at the end, each task's results in its own folder under ``--output``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import palmares.cli._eval
import palmares.cli._tasks  # noqa: F401  (registers sub-commands)
from palmares.cli import cli
from palmares.tasks import load_task
from palmares.tasks.packs import resolve_task

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "palmares" / "examples" / "avis-fr"


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def _culture_predictions(path: Path) -> Path:
    """Always the first choice, on culture-fr's test split (answers spread: 1 in 4 right)."""
    ids = load_task(resolve_task("culture-fr")).items("test").ids
    path.write_text("".join(json.dumps({"id": i, "prediction": 0}) + "\n" for i in ids), "utf-8")
    return path


def test_eval_takes_a_pack_task_id(tmp_path: Path) -> None:
    preds = _culture_predictions(tmp_path / "p.jsonl")
    code, out, err = _run("eval", "--task", "culture-fr", "--predictions", str(preds),
                          "--output", str(tmp_path / "run"))  # fmt: skip
    assert code == 0, out + err
    assert "culture-fr v1 · 163 items · split test" in out
    assert json.loads((tmp_path / "run" / "results.json").read_text())["task"]["id"] == "culture-fr"


def test_eval_scores_several_tasks_with_one_summary(tmp_path: Path) -> None:
    preds = _culture_predictions(tmp_path / "p.jsonl")
    for tasks in (["--task", "culture-fr", "--task", str(EXAMPLE / "task.yaml")],
                  ["--task", f"culture-fr,{EXAMPLE / 'task.yaml'}"]):  # fmt: skip
        out_dir = tmp_path / f"run{len(tasks)}"
        code, out, err = _run("eval", *tasks, "--predictions", str(preds),
                              "--predictions", str(EXAMPLE / "baseline.jsonl"),
                              "--output", str(out_dir))  # fmt: skip
        assert code == 0, out + err
        summary = out[out.index("2 tasks · primary metric of each") :]
        header, _, culture, avis = summary.splitlines()[1:5]
        assert header.split() == ["task", "┃", "metric", "┃", "value", "┃", "95%", "CI", "┃", "n"]
        assert culture.split()[:5] == ["culture-fr", "│", "acc", "│", "0.252"]
        assert culture.split()[-1] == "163"
        assert avis.split()[:5] == ["avis-fr", "│", "accuracy", "│", "0.875"]
        assert avis.split()[-1] == "48"
        for task_id in ("culture-fr", "avis-fr"):  # each task's results in its own folder
            results = json.loads((out_dir / task_id / "results.json").read_text())
            assert results["task"]["id"] == task_id
            assert (out_dir / task_id / "items.jsonl").is_file()


def test_eval_checks_every_task_before_scoring(tmp_path: Path) -> None:
    preds = _culture_predictions(tmp_path / "p.jsonl")
    code, _, err = _run("eval", "--task", "culture-fr,arc-frr", "--predictions", str(preds),
                        "--predictions", str(preds), "--output", str(tmp_path / "o"))  # fmt: skip
    assert code == 2 and "no task file and no pack task 'arc-frr'" in err and "arc-fr" in err
    assert not (tmp_path / "o").exists()  # nothing scored: the typo is found first
    code, _, err = _run("eval", "--task", "culture-fr", "--task", "avis-fr",
                        "--predictions", str(preds))  # fmt: skip
    assert code == 2 and "2 tasks and 1 predictions files" in err
    code, _, err = _run("eval", "--task", "culture-fr,culture-fr", "--predictions", str(preds),
                        "--predictions", str(preds))  # fmt: skip
    assert code == 2 and "'culture-fr' is given twice" in err


def test_a_file_of_that_name_wins_over_a_pack_id(tmp_path: Path) -> None:
    (tmp_path / "culture-fr").write_text("x")
    assert resolve_task("culture-fr", tmp_path) == tmp_path / "culture-fr"
    assert resolve_task("culture-fr", tmp_path / "elsewhere").name == "task.yaml"
    assert resolve_task("missing/task.yaml") == Path("missing/task.yaml")  # read: not found
    code, out, err = _run("tasks", "validate", "culture-fr")
    assert code == 0 and "✓ culture-fr: culture-fr v1" in out, err
