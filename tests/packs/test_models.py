"""The pack's tasks on real models, in-process (llama-cpp-python), three items each.

Gemma 3 270M (a base model) runs the multiple-choice and the generated tasks. It has no chat
template, so ``securite-fr`` (chat protocol) runs on SmolLM2-135M-Instruct, which has one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import palmares.cli._eval  # noqa: F401  (registers the sub-command)
from palmares.cli import cli
from palmares.packs.fr import task_path
from palmares.testing import gemma_gguf, smollm2_gguf

pytest.importorskip("llama_cpp", reason='needs pip install "palmares[llama]"')


def _run(task_id: str, model: Path, out: Path) -> tuple[dict, list[dict]]:
    res = CliRunner().invoke(
        cli,
        ["eval", "--task", str(task_path(task_id)), "--model", f"llama:{model}",
         "--model-arg", "n_ctx=1024", "--limit", "3", "--no-cache", "--output", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "3 computed, 0 from cache" in res.output
    results = json.loads((out / "results.json").read_text("utf-8"))
    items = [json.loads(line) for line in (out / "items.jsonl").read_text("utf-8").splitlines()]
    assert results["limit"] == 3 and len(items) == 3
    return results, items


def test_culture_on_gemma(tmp_path: Path) -> None:
    results, items = _run("culture-fr", gemma_gguf(), tmp_path / "run")
    acc = results["scores"]["acc"]
    assert acc["n"] == 3 and acc["ci_method"] == "wilson" and 0 <= acc["value"] <= 1
    assert all(len(i["prediction"]["logliks"]) == 4 for i in items)
    assert results["slices"]["categorie"]["geographie"]["acc"]["n"] == 3


@pytest.mark.parametrize("task_id", ["calcul-fr", "dates-fr", "unites-fr"])
def test_generated_task_on_gemma(task_id: str, tmp_path: Path) -> None:
    results, items = _run(task_id, gemma_gguf(), tmp_path / "run")
    score = results["scores"]["exact_number"]
    assert score["n"] == 3 and score["ci_method"] == "wilson" and 0 <= score["value"] <= 1
    assert all(isinstance(i["prediction"], str) and "\n" not in i["prediction"] for i in items)
    assert len(results["protocol"]["fewshot_ids"]) == 3


def test_securite_on_smollm2(tmp_path: Path) -> None:
    results, items = _run("securite-fr", smollm2_gguf(), tmp_path / "run")
    scores = results["scores"]
    assert set(scores) == {"refusal_accuracy", "over_refusal", "under_refusal"}
    assert scores["refusal_accuracy"]["n"] == 3 and scores["refusal_accuracy"]["ci"] is not None
    assert all(isinstance(i["prediction"], str) for i in items)
    # the first three prompts: two to refuse, one benign
    assert results["slices"]["attendu"]["refuser"]["under_refusal"]["n"] == 2
    assert results["slices"]["attendu"]["répondre"]["over_refusal"]["n"] == 1
