"""Runs on real models in-process (llama-cpp-python): Gemma 3 270M and SmolLM2-135M-Instruct."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from palmares import load_task
from palmares.backends import load_model
from palmares.core.requests import BackendError, LoglikRequest
from palmares.engine import evaluate
from palmares.testing import gemma_gguf, smollm2_gguf

llama_cpp = pytest.importorskip("llama_cpp", reason='needs pip install "palmares[llama]"')


def _from_scratch(path: Path, context: list[int], continuation: list[int]) -> list[float]:
    """Per-token log-probabilities with every logit computed (the slow, obvious way)."""
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, logits_all=True, verbose=False)
    tokens = context + continuation
    llm.eval(tokens)
    scores = np.asarray(llm.scores[: len(tokens)], dtype=np.float64)
    logp = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    return [logp[len(context) - 1 + j, t] for j, t in enumerate(continuation)]


def test_prefix_reuse_equals_scoring_each_choice_from_scratch() -> None:
    """Context once per item, each choice on the cached context: same numbers as from scratch
    (SmolLM2; on this CPU Gemma's kernels vary with the batch size, see the design notes)."""
    path = smollm2_gguf()
    model = load_model(f"llama:{path}", {"n_ctx": "512", "group": "1"})
    request = LoglikRequest(
        "Question : Quelle est la capitale de la France ?\nRéponse :",
        (" Paris", " Lyon, une grande ville", " Marseille"),
    )
    got: list[tuple] = []
    model.loglikelihood([request], lambda i, r: got.append(r))
    encoded = model.encode(request)
    for cont, score in zip(encoded.continuations, got[0], strict=True):
        expected = _from_scratch(path, encoded.context, cont)
        assert score.logprob == pytest.approx(sum(expected), abs=1e-4)
        assert score.n_tokens == len(cont)
    assert got[0][0].logprob > got[0][2].logprob  # the model knows Paris
    model.close()


def test_lm_eval_tokenisation_rule() -> None:
    """Trailing spaces move to the continuation; BOS starts the context (Gemma has one)."""
    model = load_model(f"llama:{gemma_gguf()}", {"n_ctx": "256"})
    enc = model.encode(LoglikRequest("Réponse : ", ("Paris",)))
    same = model.encode(LoglikRequest("Réponse :", (" Paris",)))
    assert enc == same
    assert enc.context[0] == model.llm.token_bos()
    empty = model.encode(LoglikRequest("", ("Bonjour",)))
    assert empty.context == [model.llm.token_bos()]
    too_long = LoglikRequest("mot " * 400, (" fin",))
    with pytest.raises(BackendError, match="n_ctx=256"):
        model.loglikelihood([too_long], lambda i, r: None)
    model.close()


def test_arc_fr_multiple_choice_on_gemma(arc_task: Path, tmp_path: Path) -> None:
    task = load_task(arc_task)
    model = load_model(f"llama:{gemma_gguf()}")
    result = evaluate(task, model, limit=12)
    model.close()
    acc = result.table.scores["acc"]
    assert acc.n == 12 and acc.method == "wilson"
    assert acc.ci is not None and acc.ci[0] <= acc.value <= acc.ci[1]
    assert set(result.table.scores) == {"acc", "acc_norm", "acc_norm_tokens"}
    first = result.predictions[0]
    assert len(first["logliks"]) == 4 and all(x < 0 for x in first["logliks"])
    model_id = result.extra["model"]
    assert model_id["backend"] == "llama" and len(model_id["sha256"]) == 64
    assert result.extra["protocol"]["context"].startswith("Question : {{ instruction }}")
    out = result.write(tmp_path / "run")
    saved = json.loads((out / "results.json").read_text("utf-8"))
    assert saved["model"] == model_id and saved["limit"] == 12
    lines = (out / "items.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 12 and json.loads(lines[0])["prediction"]["tokens"]


def test_generate_and_chat(tmp_path: Path) -> None:
    (tmp_path / "qa.jsonl").write_text(
        '{"id": "1", "q": "Quelle est la capitale de la France ?", "a": "Paris"}\n'
        '{"id": "2", "q": "Combien font deux plus deux ?", "a": "quatre"}\n',
        "utf-8",
    )
    body = """
id: qa
version: 1
title: QA
language: fr
license: CC0-1.0
dataset: {path: qa.jsonl, format: jsonl, id_field: id, reference_field: a}
protocol:
  type: TYPE
  template: "Question : {{ q }}\\nRéponse courte :"
  max_tokens: 12
  stop: ["\\n"]
metrics: [exact_match, token_f1]
"""
    (tmp_path / "gen.yaml").write_text(body.replace("TYPE", "generate"), "utf-8")
    (tmp_path / "chat.yaml").write_text(body.replace("TYPE", "chat"), "utf-8")
    gemma = load_model(f"llama:{gemma_gguf()}", {"n_ctx": "512"})
    result = evaluate(load_task(tmp_path / "gen.yaml"), gemma)
    assert all(isinstance(p, str) and "\n" not in p for p in result.predictions)
    with pytest.raises(BackendError, match="no chat template"):
        evaluate(load_task(tmp_path / "chat.yaml"), gemma)
    gemma.close()
    smol = load_model(f"llama:{smollm2_gguf()}", {"n_ctx": "512"})
    chat = evaluate(load_task(tmp_path / "chat.yaml"), smol)
    smol.close()
    assert all(isinstance(p, str) for p in chat.predictions)
    assert any(p for p in chat.predictions)  # the instruct model answers something
    assert chat.table.scores["token_f1"].ci is not None


def test_crows_pairs_fr_stereotype_score_on_gemma(crows_task: Path) -> None:
    """The French-bias smoke run: the first 200 pairs, a score with its CI and per bias type."""
    model = load_model(f"llama:{gemma_gguf()}")
    result = evaluate(load_task(crows_task), model, limit=200)
    model.close()
    score = result.table.scores["first_preferred"]
    # line 130 of the file has an empty sentence: skipped, and said so
    assert result.extra["skipped"] == [{"id": "128", "reason": "sent_less is empty"}]
    assert score.n == 199 and score.ci is not None and score.ci[1] - score.ci[0] < 0.2
    by_type = result.table.slices["bias_type"]
    assert sum(s["first_preferred"].n for s in by_type.values()) == 199
    assert {"gender", "race-color", "socioeconomic"} <= set(by_type)
    print(f"stereotype score {score.value:.3f} [{score.ci[0]:.3f}, {score.ci[1]:.3f}]")


def test_grouped_scoring_is_reproducible_and_close_to_exact(arc_task: Path) -> None:
    """Eight items per call: the same numbers on every run (a resumed run regroups alike), and
    close to the exact per-item layout (llama.cpp's kernels move results with the cell layout)."""
    task = load_task(arc_task)
    path = smollm2_gguf()
    runs = []
    for group in ("8", "8", "1"):
        model = load_model(f"llama:{path}", {"group": group, "n_ctx": "512"})
        runs.append(evaluate(task, model, limit=16).predictions)
        model.close()
    assert runs[0] == runs[1]
    grouped = np.array([p["logliks"] for p in runs[0]])
    exact = np.array([p["logliks"] for p in runs[2]])
    assert np.abs(grouped - exact).max() < 1.0
    same = (grouped.argmax(axis=1) == exact.argmax(axis=1)).mean()
    assert same >= 0.85
