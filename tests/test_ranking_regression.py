"""Ranking and regression tasks end to end: dataset file → predictions file → scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from palmares import Scorer, load_task

TASK = """
id: {id}
version: 1
title: T
language: en
license: CC0-1.0
dataset: {{path: {file}, format: {fmt}, id_field: qid, input_fields: [query],
           reference_field: {ref}, slice_fields: [kind]}}
metrics: {metrics}
"""


def _queries(n: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out = []
    for q in range(n):
        docs = [f"d{j}" for j in rng.choice(30, size=int(rng.integers(1, 5)), replace=False)]
        grades = {d: float(rng.integers(1, 4)) for d in docs}
        out.append(
            {
                "qid": f"q{q}",
                "query": f"query {q}",
                "relevant": grades,
                "kind": "a" if q % 2 else "b",
            }
        )
    return out


def _ranking(rng: np.random.Generator, relevant: dict[str, float]) -> list[str]:
    pool = list(relevant) + [f"d{j}" for j in range(30)]
    ranked = list(dict.fromkeys(rng.permutation(pool).tolist()))
    return ranked[:10]


@pytest.mark.parametrize("pred_format", ["jsonl", "csv"])
def test_ranking_task_matches_sklearn_ndcg(tmp_path: Path, pred_format: str) -> None:
    queries = _queries(60, 1)
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    task_yaml = tmp_path / "task.yaml"
    task_yaml.write_text(
        TASK.format(
            id="rank",
            file=data.name,
            fmt="jsonl",
            ref="relevant",
            metrics="[ndcg@5, recall@10, mrr]",
        ),
        encoding="utf-8",
    )
    rng = np.random.default_rng(2)
    runs = {str(q["qid"]): _ranking(rng, q["relevant"]) for q in queries}  # type: ignore[arg-type]
    if pred_format == "jsonl":
        preds = tmp_path / "p.jsonl"
        preds.write_text(
            "".join(json.dumps({"id": k, "prediction": v}) + "\n" for k, v in runs.items())
        )
    else:
        preds = tmp_path / "p.csv"
        with preds.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "prediction"])
            w.writerows((k, " ".join(v)) for k, v in runs.items())
    scores = Scorer(load_task(task_yaml)).score_file(str(preds)).table.scores
    ndcg, recall, mrr = [], [], []
    for q in queries:
        rel: dict[str, float] = q["relevant"]  # type: ignore[assignment]
        ranked = runs[str(q["qid"])]
        docs = list(dict.fromkeys(ranked + list(rel)))
        true = np.array([[rel.get(d, 0.0) for d in docs]])
        score = np.array([[len(docs) - docs.index(d) if d in ranked else 0 for d in docs]])
        ndcg.append(skm.ndcg_score(true, score, k=5))
        recall.append(sum(d in rel for d in ranked[:10]) / len(rel))
        first = next((i for i, d in enumerate(ranked) if d in rel), None)
        mrr.append(0.0 if first is None else 1 / (first + 1))
    assert scores["ndcg@5"].value == pytest.approx(np.mean(ndcg))
    assert scores["recall@10"].value == pytest.approx(np.mean(recall))
    assert scores["mrr"].value == pytest.approx(np.mean(mrr))
    assert scores["ndcg@5"].method == "t" and scores["ndcg@5"].n == 60


def test_regression_task_matches_sklearn(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(3, 1, 200)
    yhat = y + rng.normal(0, 0.5, 200)
    data = tmp_path / "d.csv"
    with data.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["qid", "query", "target", "kind"])
        w.writerows((f"r{i}", "x", repr(v), "ab"[i % 2]) for i, v in enumerate(y.tolist()))
    task_yaml = tmp_path / "task.yaml"
    task_yaml.write_text(
        TASK.format(
            id="reg", file=data.name, fmt="csv", ref="target", metrics="[rmse, mae, r2, pearson]"
        ),
        encoding="utf-8",
    )
    preds = tmp_path / "p.jsonl"
    preds.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "prediction": v}) + "\n" for i, v in enumerate(yhat.tolist())
        )
    )
    result = Scorer(load_task(task_yaml)).score_file(str(preds))
    scores = result.table.scores
    assert scores["rmse"].value == pytest.approx(np.sqrt(skm.mean_squared_error(y, yhat)))
    assert scores["mae"].value == pytest.approx(skm.mean_absolute_error(y, yhat))
    assert scores["r2"].value == pytest.approx(skm.r2_score(y, yhat))
    assert scores["pearson"].value == pytest.approx(np.corrcoef(y, yhat)[0, 1])
    for s in scores.values():
        assert s.ci is not None and s.ci[0] <= s.value <= s.ci[1]
    half = result.table.slices["kind"]["a"]["r2"]
    mask = np.arange(200) % 2 == 0  # kind "a" is on even rows
    assert half.value == pytest.approx(skm.r2_score(y[mask], yhat[mask]))
