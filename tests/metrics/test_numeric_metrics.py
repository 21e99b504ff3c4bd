"""Regression, ranking and calibration metrics against independent references.

References: scikit-learn and scipy where they define the metric, worked examples by hand
otherwise. Every corpus metric is also checked through its sufficient statistics: totals of the
whole corpus, and totals of a bootstrap resample (``bincount`` of resampled indices @ table),
must give the value computed directly on those items.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from palmares.core import InputError
from palmares.metrics._base import CorpusMetric
from palmares.metrics._data import LabelData, NumberData, RankingData
from palmares.metrics.calibration import ECE, Brier
from palmares.metrics.calibration import METRICS as CALIBRATION_METRICS
from palmares.metrics.ranking import METRICS as RANKING_METRICS
from palmares.metrics.ranking import MRR, NDCG, Recall
from palmares.metrics.regression import MAE, MSE, R2, RMSE, Pearson
from palmares.metrics.regression import METRICS as REGRESSION_METRICS

ALLOCINE = Path("/work/shared/data/allocine_sample/allocine_test_random1000.csv")


def corpus_value(metric: CorpusMetric[Any], data: Any) -> float:
    suff = metric.sufficient(data)
    out = metric.from_totals(suff.totals(), data)
    assert out.shape == (1, 1)
    return float(out[0, 0])


def number_data(n: int = 200, seed: int = 0, offset: float = 0.0) -> NumberData:
    rng = np.random.default_rng(seed)
    refs = offset + rng.normal(3.0, 2.0, n)
    preds = refs + rng.normal(0.5, 1.0, n)
    return NumberData(refs=refs, preds=preds)


def ece_reference(proba: np.ndarray, refs: np.ndarray, n_bins: int = 15) -> float:
    """ECE as in Guo et al. (2017)'s code: bins (lo, hi], loop over bins."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == refs
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def label_data(n: int = 300, k: int = 3, seed: int = 0) -> LabelData:
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(k, 0.7), n)
    # Put some confidences exactly on bin edges (and at 1) to exercise the (lo, hi] rule.
    edges = np.linspace(0.0, 1.0, 16)
    for i, edge in enumerate(edges[8:]):
        proba[3 * i] = 0.0
        proba[3 * i, :2] = [edge, 1.0 - edge]
    refs = np.array([rng.choice(k, p=p) if rng.random() < 0.7 else rng.integers(k) for p in proba])
    return LabelData(
        refs=refs.astype(np.int64),
        preds=proba.argmax(axis=1).astype(np.int64),
        labels=tuple("abcdefgh"[:k]),
        probabilities=proba,
    )


# --- regression -------------------------------------------------------------------------------


def test_mae_and_mse_match_sklearn() -> None:
    data = number_data()
    mae = MAE().item_scores(data)
    mse = MSE().item_scores(data)
    assert mae.shape == mse.shape == (len(data),)
    assert mae.mean() == pytest.approx(skm.mean_absolute_error(data.refs, data.preds), rel=1e-12)
    assert mse.mean() == pytest.approx(skm.mean_squared_error(data.refs, data.preds), rel=1e-12)
    assert not MAE.higher_is_better and not MSE.higher_is_better


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_corpus_regression_metrics_match_sklearn_and_scipy(offset: float) -> None:
    data = number_data(offset=offset)
    rmse = skm.root_mean_squared_error(data.refs, data.preds)
    assert rmse == pytest.approx(math.sqrt(skm.mean_squared_error(data.refs, data.preds)))
    assert corpus_value(RMSE(), data) == pytest.approx(rmse, rel=1e-12)
    assert corpus_value(R2(), data) == pytest.approx(skm.r2_score(data.refs, data.preds), rel=1e-9)
    r = stats.pearsonr(data.preds, data.refs).statistic
    assert corpus_value(Pearson(), data) == pytest.approx(r, rel=1e-9)


def test_regression_degenerate_cases() -> None:
    constant = np.full(5, 2.5)
    perfect = NumberData(refs=constant, preds=constant.copy())
    off = NumberData(refs=constant, preds=np.arange(5.0))
    # scikit-learn (force_finite=True): 1.0 for a perfect fit of constant references, else 0.0
    assert corpus_value(R2(), perfect) == skm.r2_score(perfect.refs, perfect.preds) == 1.0
    assert corpus_value(R2(), off) == skm.r2_score(off.refs, off.preds) == 0.0
    assert corpus_value(Pearson(), off) == 0.0  # scipy: NaN; Palmarès: 0/0 counts as 0
    assert corpus_value(RMSE(), perfect) == 0.0
    empty = NumberData(refs=np.zeros(0), preds=np.zeros(0))
    for metric in (RMSE(), R2(), Pearson()):
        assert corpus_value(metric, empty) == 0.0
    # Perfectly (anti-)correlated series stay within [-1, 1].
    x = np.linspace(0.1, 0.7, 7)
    assert corpus_value(Pearson(), NumberData(refs=x, preds=3 * x + 1)) == pytest.approx(1.0)
    assert corpus_value(Pearson(), NumberData(refs=x, preds=-x)) == pytest.approx(-1.0)


# --- sufficient statistics and the bootstrap --------------------------------------------------


def _resample_number(data: NumberData, idx: np.ndarray) -> NumberData:
    return NumberData(refs=data.refs[idx], preds=data.preds[idx])


def _resample_label(data: LabelData, idx: np.ndarray) -> LabelData:
    assert data.probabilities is not None
    return LabelData(data.refs[idx], data.preds[idx], data.labels, data.probabilities[idx])


def _ece_direct(data: LabelData) -> float:
    assert data.probabilities is not None
    return ece_reference(data.probabilities, data.refs)


CORPUS_CASES: list[tuple[CorpusMetric[Any], Any, Callable[..., Any], Callable[[Any], float]]] = [
    (
        RMSE(),
        number_data(),
        _resample_number,
        lambda d: skm.root_mean_squared_error(d.refs, d.preds),
    ),
    (R2(), number_data(), _resample_number, lambda d: skm.r2_score(d.refs, d.preds)),
    (Pearson(), number_data(), _resample_number, lambda d: stats.pearsonr(d.preds, d.refs)[0]),
    (ECE(), label_data(), _resample_label, _ece_direct),
    (ECE(), label_data(k=2, seed=3), _resample_label, _ece_direct),
]


@pytest.mark.parametrize(("metric", "data", "resample", "direct"), CORPUS_CASES)
def test_totals_and_bootstrap_resamples_match_direct_computation(
    metric: CorpusMetric[Any],
    data: Any,
    resample: Callable[..., Any],
    direct: Callable[[Any], float],
) -> None:
    suff = metric.sufficient(data)
    assert suff.n == len(data)
    assert metric.from_totals(suff.totals(), data)[0, 0] == pytest.approx(direct(data), rel=1e-9)

    rng = np.random.default_rng(7)
    n, m = len(data), suff.table.shape[0]
    draws = [rng.integers(0, n, n) for _ in range(4)]
    totals = np.stack([np.bincount(suff.codes[idx], minlength=m) @ suff.table for idx in draws])
    values = metric.from_totals(totals, data)  # all replicates at once: (B, d) → (B, 1)
    assert values.shape == (len(draws), 1)
    for idx, value in zip(draws, values[:, 0], strict=True):
        resampled = resample(data, idx)
        assert value == pytest.approx(direct(resampled), rel=1e-9, abs=1e-12)
        assert value == pytest.approx(corpus_value(metric, resampled), rel=1e-9, abs=1e-12)


# --- ranking ----------------------------------------------------------------------------------

REL = {"a": 1.0, "b": 2.0, "c": 0.0}  # relevant: a and b (c has relevance 0)


@pytest.mark.parametrize(
    ("ranked", "k", "expected"),
    [
        (["x", "b", "y", "a"], 1, 0.0),
        (["x", "b", "y", "a"], 2, 0.5),  # b found, a not yet
        (["x", "b", "y", "a"], 4, 1.0),
        (["c", "x"], 2, 0.0),  # relevance 0 is not relevant
        (["b", "b", "a"], 2, 0.5),  # the repeated b takes a slot and earns nothing
        (["b", "b", "a"], 3, 1.0),
        (["a"], 10, 0.5),  # a list shorter than k
    ],
)
def test_recall_at_k_by_hand(ranked: list[str], k: int, expected: float) -> None:
    data = RankingData(refs=[REL], preds=[ranked])
    assert Recall(k=k).item_scores(data).tolist() == [expected]


def test_mrr_by_hand() -> None:
    data = RankingData(
        refs=[REL, REL, REL, {}, REL],
        preds=[["x", "y", "b"], ["a"], ["x", "c"], ["a"], ["x", "x", "a"]],
    )
    # first relevant at rank 3, 1, none, (no relevant document), 3 (duplicates keep their rank)
    assert MRR().item_scores(data).tolist() == pytest.approx([1 / 3, 1.0, 0.0, 0.0, 1 / 3])
    assert MRR().label == "mrr"
    assert MRR(k=2).item_scores(data).tolist() == pytest.approx([0.0, 1.0, 0.0, 0.0, 0.0])
    assert MRR(k=2).label == "mrr@2"


def test_ndcg_by_hand() -> None:
    refs = {"a": 3.0, "b": 2.0, "c": 1.0}
    # ranked b, x, a: DCG = 2/log2(2) + 0 + 3/log2(4) = 3.5
    # ideal a, b, c: IDCG = 3 + 2/log2(3) + 1/log2(4) = 3.5 + 1.2618595 = 4.7618595
    data = RankingData(refs=[refs], preds=[["b", "x", "a"]])
    assert NDCG(k=3).item_scores(data)[0] == pytest.approx(3.5 / (3.5 + 2 / math.log2(3)))
    # a repeated id: a, a, b at k=2 → DCG = 3 (the second a earns nothing), IDCG = 3 + 2/log2(3)
    dup = RankingData(refs=[refs], preds=[["a", "a", "b"]])
    assert NDCG(k=2).item_scores(dup)[0] == pytest.approx(3 / (3 + 2 / math.log2(3)))
    # no relevant document: 0 (as scikit-learn's ndcg_score)
    none = RankingData(refs=[{"a": 0.0}], preds=[["a"]])
    assert NDCG(k=5).item_scores(none).tolist() == [0.0]
    assert NDCG(k=10).label == "ndcg@10"


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 3, 5, 8])
def test_ndcg_matches_sklearn_single_query(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(12)]
    gains = rng.integers(0, 4, len(docs)).astype(float)
    gains[rng.integers(len(docs))] = 3.0  # at least one relevant document
    ranked = [docs[i] for i in rng.permutation(len(docs))[:8]]  # 8 of the 12 documents ranked
    # sklearn scores every document: ranked ones by decreasing score, the others below all of them
    scores = np.full(len(docs), -1.0)
    for rank, doc in enumerate(ranked):
        scores[docs.index(doc)] = len(ranked) - rank
    expected = skm.ndcg_score([gains], [scores], k=k)
    refs = {doc: g for doc, g in zip(docs, gains, strict=True) if g > 0}
    data = RankingData(refs=[refs], preds=[ranked])
    assert NDCG(k=k).item_scores(data)[0] == pytest.approx(expected, rel=1e-12)


def test_ranking_options_are_checked() -> None:
    for cls in (Recall, NDCG):
        with pytest.raises(InputError, match="needs a cutoff k"):
            cls()
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(InputError, match="positive integer"):
            NDCG(k=bad)
    with pytest.raises(InputError, match="takes no option"):
        Recall(k=3, depth=2)


# --- calibration ------------------------------------------------------------------------------


def test_brier_matches_sklearn() -> None:
    data = label_data(k=3)
    assert data.probabilities is not None
    brier = Brier().item_scores(data).mean()
    # the multiclass definition is scikit-learn's without its halving
    expected = skm.brier_score_loss(
        data.refs, data.probabilities, labels=[0, 1, 2], scale_by_half=False
    )
    assert brier == pytest.approx(expected, rel=1e-12)

    binary = label_data(k=2, seed=1)
    assert binary.probabilities is not None
    brier2 = Brier().item_scores(binary).mean()
    # two labels: twice the binary Brier score of the positive class
    assert brier2 == pytest.approx(
        2 * skm.brier_score_loss(binary.refs, binary.probabilities[:, 1])
    )


def test_ece_by_hand() -> None:
    # labels (a, b); bins of width 1/15 = 0.0667, (lo, hi]
    proba = np.array(
        [
            [0.90, 0.10],  # ref a: conf 0.90, correct → bin 13 (0.867, 0.933]
            [0.95, 0.05],  # ref b: conf 0.95, wrong   → bin 14 (0.933, 1]
            [0.35, 0.65],  # ref b: conf 0.65, correct → bin 9  (0.6, 0.667]
            [0.30, 0.70],  # ref b: conf 0.70, correct → bin 10 (0.667, 0.733]
            [0.38, 0.62],  # ref a: conf 0.62, wrong   → bin 9
        ]
    )
    refs = np.array([0, 1, 1, 1, 0])
    # bin 13: |1 − 0.90| = 0.10; bin 14: |0 − 0.95| = 0.95; bin 10: |1 − 0.70| = 0.30;
    # bin 9: 2 items, accuracy 0.5, confidence 0.635 → 2 × 0.135 = 0.27
    # ECE = (0.10 + 0.95 + 0.30 + 0.27) / 5 = 0.324
    data = LabelData(refs, proba.argmax(axis=1), ("a", "b"), proba)
    assert corpus_value(ECE(), data) == pytest.approx(0.324)
    assert ece_reference(proba, refs) == pytest.approx(0.324)


def test_ece_ties_go_to_the_lowest_label() -> None:
    proba = np.array([[0.4, 0.4, 0.2]])
    first = LabelData(np.array([0]), np.array([0]), ("a", "b", "c"), proba)
    second = LabelData(np.array([1]), np.array([0]), ("a", "b", "c"), proba)
    assert corpus_value(ECE(), first) == pytest.approx(0.6)  # correct, confidence 0.4
    assert corpus_value(ECE(), second) == pytest.approx(0.4)  # wrong, confidence 0.4


def test_calibration_needs_probabilities() -> None:
    data = LabelData(np.array([0, 1]), np.array([0, 1]), ("a", "b"), None)
    with pytest.raises(InputError, match="probabilities"):
        Brier().item_scores(data)
    with pytest.raises(InputError, match="probabilities"):
        ECE().sufficient(data)
    bad = LabelData(np.array([0, 1]), np.array([0, 1]), ("a", "b"), np.ones((2, 3)) / 3)
    with pytest.raises(InputError, match="shape"):
        Brier().item_scores(bad)
    assert Brier.needs_probabilities and ECE.needs_probabilities


POSITIVE = {"excellent", "magnifique", "superbe", "génial", "parfait", "émouvant", "beau", "belle"}
POSITIVE |= {"réussi", "adoré", "meilleur", "bravo", "chef", "sublime", "merveilleux", "bon"}
NEGATIVE = {"mauvais", "nul", "ennuyeux", "ennui", "ridicule", "décevant", "déception", "pire"}
NEGATIVE |= {"raté", "navet", "médiocre", "rien", "dommage", "ennuie", "inutile", "lourd"}


def test_calibration_on_allocine_word_list_baseline() -> None:
    """A lexicon baseline on French film reviews: P(positive) = σ(0.8 · (#positive − #negative))."""
    with ALLOCINE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1000
    refs = np.array([int(row["label"]) for row in rows], dtype=np.int64)
    margin = np.array(
        [
            len(words & POSITIVE) - len(words & NEGATIVE)
            for words in (set(re.findall(r"\w+", row["text"].lower())) for row in rows)
        ]
    )
    p_pos = 1.0 / (1.0 + np.exp(-0.8 * margin))
    proba = np.column_stack([1.0 - p_pos, p_pos])
    data = LabelData(refs, proba.argmax(axis=1), ("0", "1"), proba)

    brier = float(Brier().item_scores(data).mean())
    assert brier == pytest.approx(2 * skm.brier_score_loss(refs, p_pos), rel=1e-12)
    assert brier < 0.5  # better than the constant 0.5 (whose Brier score is 2 × 0.25)
    ece = corpus_value(ECE(), data)
    assert ece == pytest.approx(ece_reference(proba, refs), rel=1e-12)
    assert 0.0 < ece < 0.5


# --- module contract --------------------------------------------------------------------------


def test_metric_lists_and_attributes() -> None:
    assert [m.name for m in REGRESSION_METRICS] == ["mae", "mse", "rmse", "r2", "pearson"]
    assert [m.name for m in RANKING_METRICS] == ["recall", "mrr", "ndcg"]
    assert [m.name for m in CALIBRATION_METRICS] == ["brier", "ece"]
    for cls in (*REGRESSION_METRICS, *RANKING_METRICS, *CALIBRATION_METRICS):
        assert cls.description
    assert [m.higher_is_better for m in REGRESSION_METRICS] == [False, False, False, True, True]
    assert all(m.higher_is_better for m in RANKING_METRICS)
    assert not any(m.higher_is_better for m in CALIBRATION_METRICS)
