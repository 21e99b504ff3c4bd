"""End-to-end scoring on real public data (../shared/data), checked against independent tools."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
from sklearn import metrics as skm

from palmares import Scorer, load_task

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _write_task(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "task.yaml"
    path.write_text(body.replace("DATA", str(DATA)), encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


# --- RTE3-FR: 3-class NLI ----------------------------------------------------------------------

RTE3 = """
id: rte3-fr
version: 1
title: RTE3 en français
language: fr
license: BSD-2-Clause
dataset:
  splits:
    dev: DATA/rte3_fr/RTE3-FR-dev-set-3class.tsv
    test: DATA/rte3_fr/RTE3-FR-test-gold-3class.tsv
  format: tsv
  id_field: id
  input_fields: [premise, hypothesis]
  reference_field: label_text
  slice_fields: [task]
metrics: [accuracy, macro_f1, mcc, per_class_f1, weighted_recall]
"""


def _overlap_baseline(premise: str, hypothesis: str) -> str:
    """Most hypothesis words in the premise → entailment; a new negation → contradiction."""
    words = set(re.findall(r"\w+", hypothesis.lower()))
    seen = set(re.findall(r"\w+", premise.lower()))
    if {"ne", "pas", "jamais", "aucun"} & (words - seen):
        return "contradiction"
    return "entailment" if len(words & seen) / max(len(words), 1) > 0.75 else "neutral"


@pytest.mark.parametrize("split", ["dev", "test"])
def test_rte3_classification_matches_sklearn(tmp_path: Path, split: str) -> None:
    task = load_task(_write_task(tmp_path, RTE3))
    items = task.items(split)
    assert len(items) == 800
    preds = [
        _overlap_baseline(p, h)
        for p, h in zip(items.inputs["premise"], items.inputs["hypothesis"], strict=True)
    ]
    # shuffled file order, integer ids: alignment is by id, not position
    order = np.random.default_rng(0).permutation(len(items))
    rows = [{"id": int(items.ids[i]), "prediction": preds[i]} for i in order]
    result = Scorer(task, split).score_file(str(_jsonl(tmp_path / "p.jsonl", rows)))
    y = [str(r) for r in items.references]
    scores = result.table.scores
    assert scores["accuracy"].value == pytest.approx(skm.accuracy_score(y, preds))
    assert scores["macro_f1"].value == pytest.approx(skm.f1_score(y, preds, average="macro"))
    assert scores["mcc"].value == pytest.approx(skm.matthews_corrcoef(y, preds))
    assert scores["weighted_recall"].value == pytest.approx(
        skm.recall_score(y, preds, average="weighted")
    )
    per_class = skm.f1_score(y, preds, average=None, labels=sorted(set(y) | set(preds)))
    for label, value in zip(sorted(set(y) | set(preds)), per_class, strict=True):
        assert scores[f"f1[{label}]"].value == pytest.approx(value)
    for score in scores.values():
        assert score.ci is not None and score.ci[0] <= score.value <= score.ci[1]
        assert score.n == 800
    # per-slice scores against sklearn on the subset
    tasks = np.array(items.slices["task"])
    for value, by_metric in result.table.slices["task"].items():
        mask = tasks == value
        ys = [y[i] for i in np.flatnonzero(mask)]
        ps = [preds[i] for i in np.flatnonzero(mask)]
        assert by_metric["macro_f1"].value == pytest.approx(skm.f1_score(ys, ps, average="macro"))
        assert by_metric["accuracy"].n == int(mask.sum())


# --- Allociné: binary sentiment, CSV predictions, probabilities ---------------------------------

ALLOCINE = """
id: allocine
version: 1
title: Allociné
language: fr
license: MIT
dataset:
  splits:
    random: DATA/allocine_sample/allocine_test_random1000.csv
    balanced: DATA/allocine_sample/allocine_test_balanced400.csv
  format: csv
  input_fields: [text]
  reference_field: label
metrics: METRICS
"""

_POS = {"excellent", "magnifique", "superbe", "bon", "bien", "belle", "génial", "drôle", "parfait"}
_NEG = {"mauvais", "nul", "ennui", "ennuyeux", "décevant", "pire", "rien", "ridicule", "raté"}


def _sentiment(text: str) -> float:
    words = re.findall(r"\w+", text.lower())
    score = sum(w in _POS for w in words) - sum(w in _NEG for w in words)
    return float(1 / (1 + np.exp(-0.8 * score)))


@pytest.mark.parametrize("split", ["random", "balanced"])
def test_allocine_binary_csv_matches_sklearn(tmp_path: Path, split: str) -> None:
    body = ALLOCINE.replace("METRICS", "[accuracy, macro_f1, micro_f1, mcc, per_class_recall]")
    task = load_task(_write_task(tmp_path, body))
    items = task.items(split)
    p_pos = [_sentiment(t) for t in items.inputs["text"]]
    preds = ["1" if p >= 0.5 else "0" for p in p_pos]
    path = tmp_path / "preds.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "prediction"])
        writer.writerows(zip(items.ids, preds, strict=True))
    scores = Scorer(task, split).score_file(str(path)).table.scores
    y = list(items.references)
    assert scores["accuracy"].value == pytest.approx(skm.accuracy_score(y, preds))
    assert scores["micro_f1"].value == pytest.approx(skm.f1_score(y, preds, average="micro"))
    assert scores["macro_f1"].value == pytest.approx(skm.f1_score(y, preds, average="macro"))
    assert scores["mcc"].value == pytest.approx(skm.matthews_corrcoef(y, preds))
    assert scores["recall[1]"].value == pytest.approx(skm.recall_score(y, preds, pos_label="1"))


def test_allocine_probabilities_give_brier_and_ece(tmp_path: Path) -> None:
    task = load_task(_write_task(tmp_path, ALLOCINE.replace("METRICS", "[brier, ece]")))
    items = task.items("random")
    p_pos = [_sentiment(t) for t in items.inputs["text"]]
    rows = [
        {"id": i, "prediction": "1" if p >= 0.5 else "0", "probabilities": {"1": p, "0": 1 - p}}
        for i, p in zip(items.ids, p_pos, strict=True)
    ]
    scores = Scorer(task, "random").score_file(str(_jsonl(tmp_path / "p.jsonl", rows)))
    y = np.array([int(r) for r in items.references])
    brier = scores.table.scores["brier"]
    assert brier.value == pytest.approx(2 * skm.brier_score_loss(y, p_pos))
    assert brier.method == "t"
    ece = scores.table.scores["ece"]
    assert 0 < ece.value < 0.5 and ece.ci is not None and ece.ci[0] <= ece.value <= ece.ci[1]


# --- PIAF: French extractive QA, clustered by article -------------------------------------------

PIAF = """
id: piaf
version: 1
title: PIAF
language: fr
license: MIT
dataset:
  path: DATA/piaf/piaf-v1.0.json
  format: squad
  id_field: id
  input_fields: [context, question]
  reference_field: answers
  group_field: title
metrics: [exact_match, token_f1]
"""


def _qa_baseline(context: str, question: str) -> str:
    """The first three words of the context sentence sharing most words with the question."""
    q = set(re.findall(r"\w+", question.lower()))
    sentences = re.split(r"(?<=[.!?])\s+", context)
    best = max(sentences, key=lambda s: len(q & set(re.findall(r"\w+", s.lower()))))
    return " ".join(best.split()[:3])


def test_piaf_exact_match_and_token_f1(tmp_path: Path) -> None:
    from palmares.metrics.normalize import normalize_answer

    task = load_task(_write_task(tmp_path, PIAF))
    items = task.items()
    assert len(items) == 3835
    preds = [
        _qa_baseline(c, q)
        for c, q in zip(items.inputs["context"], items.inputs["question"], strict=True)
    ]
    rows = [{"id": i, "prediction": p} for i, p in zip(items.ids, preds, strict=True)]
    result = Scorer(task).score_file(str(_jsonl(tmp_path / "p.jsonl", rows)))
    em, f1 = result.table.scores["exact_match"], result.table.scores["token_f1"]
    # independent: count exact matches with the normaliser, and token F1 written out here
    expected_em = np.mean(
        [
            any(normalize_answer(p, "fr") == normalize_answer(a, "fr") for a in answers)
            for p, answers in zip(preds, items.references, strict=True)
        ]
    )
    assert em.value == pytest.approx(expected_em)
    assert 0.0 <= em.value < f1.value < 0.5
    # questions on the same article are dependent: the interval is cluster-robust
    assert f1.method == "cluster-t" and f1.ci is not None
    assert f1.ci[0] < f1.value < f1.ci[1]


# --- WMT14 en→fr: chrF and BLEU of a copy baseline ----------------------------------------------

WMT = """
id: wmt14-en-fr
version: 1
title: WMT14 en-fr
language: fr
license: research-only
dataset:
  path: DATA/wmt14_en_fr/newstest2014_en-fr.jsonl
  format: jsonl
  id_field: id
  input_fields: [en]
  reference_field: fr
  slice_fields: [origlang]
metrics: [chrf, bleu]
statistics: {bootstrap: 300}
"""


def test_wmt14_chrf_bleu_match_sacrebleu(tmp_path: Path) -> None:
    task = load_task(_write_task(tmp_path, WMT))
    items = task.items()
    assert len(items) == 3003
    hyps = list(items.inputs["en"])  # copy the source: a real, weak baseline
    rows = [{"id": int(i), "prediction": h} for i, h in zip(items.ids, hyps, strict=True)]
    result = Scorer(task).score_file(str(_jsonl(tmp_path / "p.jsonl", rows)))
    refs = [list(items.references)]
    chrf, bleu = result.table.scores["chrf"], result.table.scores["bleu"]
    assert chrf.value == pytest.approx(sacrebleu.corpus_chrf(hyps, refs).score, abs=1e-9)
    assert bleu.value == pytest.approx(sacrebleu.corpus_bleu(hyps, refs).score, abs=1e-9)
    assert chrf.ci is not None and chrf.ci[0] < chrf.value < chrf.ci[1]
    origlang = np.array(items.slices["origlang"])
    for lang, by_metric in result.table.slices["origlang"].items():
        idx = np.flatnonzero(origlang == lang)
        sub_h = [hyps[i] for i in idx]
        sub_r = [[items.references[i] for i in idx]]
        assert by_metric["bleu"].value == pytest.approx(
            sacrebleu.corpus_bleu(sub_h, sub_r).score, abs=1e-9
        )


def test_calibration_metrics_without_probabilities_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    import palmares.cli._eval  # noqa: F401
    from palmares.cli import cli

    task_path = _write_task(tmp_path, ALLOCINE.replace("METRICS", "[accuracy, brier]"))
    items = load_task(task_path).items("random")
    preds = _jsonl(tmp_path / "p.jsonl", [{"id": i, "prediction": "1"} for i in items.ids])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        ["eval", "--task", str(task_path), "--predictions", str(preds), "--split", "random",
         "--output", str(out)],
    )  # fmt: skip
    assert res.exit_code == 2
    assert "brier need probabilities" in res.stderr and str(preds) in res.stderr
    assert not out.exists()
