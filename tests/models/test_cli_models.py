"""``palmares eval --model``: a real run from the command line, the cache, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import palmares.cli._eval  # noqa: F401  (registers the sub-command)
from palmares.cli import cli
from palmares.testing import gemma_gguf


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_model_run_then_instant_rerun_from_cache(arc_task: Path, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    args = ["eval", "--task", str(arc_task), "--model", f"llama:{gemma_gguf()}", "--limit", "6",
            "--cache", str(tmp_path / "cache.sqlite3")]  # fmt: skip
    code, out, err = _run(*args, "--output", str(tmp_path / "a"))
    assert code == 0, out + err
    assert "acc_norm" in out and "95% CI" in out and "6 computed, 0 from cache" in out
    code, out, err = _run(*args, "--output", str(tmp_path / "b"))
    assert code == 0 and "0 computed, 6 from cache" in out, out + err
    first = json.loads((tmp_path / "a" / "results.json").read_text("utf-8"))
    second = json.loads((tmp_path / "b" / "results.json").read_text("utf-8"))
    assert first["scores"] == second["scores"]
    assert second["run"]["cached"] == 6 and second["run"]["computed"] == 0


@pytest.mark.parametrize(
    ("model", "extra", "message"),
    [
        (
            "llama:/nonexistent/model.gguf",
            [],
            "model: model file not found: /nonexistent/model.gguf",
        ),
        ("gguf:model.gguf", [], "model: unknown backend 'gguf'; known: llama, openai"),
        ("model.gguf", [], "model: a model is named BACKEND:TARGET"),
        ("openai:http://127.0.0.1:9/v1", [], "model"),
        ("llama:GEMMA", ["--model-arg", "threads=two"], "model-arg threads: must be an integer"),
        ("llama:GEMMA", ["--model-arg", "colour=blue"], "takes no option 'colour'"),
    ],
)
def test_bad_model_exits_2(
    arc_task: Path, tmp_path: Path, model: str, extra: list[str], message: str
) -> None:
    model = model.replace("GEMMA", str(gemma_gguf()))
    args = ["eval", "--task", str(arc_task), "--model", model, *extra, "--no-cache"]
    code, out, err = _run(*args, "--output", str(tmp_path / "out"))
    assert code == 2, out + err
    assert message in err
    assert not (tmp_path / "out").exists()


def test_predictions_and_model_together_exit_2(arc_task: Path) -> None:
    code, _, err = _run("eval", "--task", str(arc_task), "--model", "llama:x.gguf",
                        "--predictions", "p.jsonl")  # fmt: skip
    assert code == 2 and "exactly one of --predictions or --model" in err
