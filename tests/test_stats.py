"""Confidence intervals, checked against scipy, hand-worked examples and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from palmares.metrics import encode_labels
from palmares.metrics.classification import METRICS
from palmares.stats import (
    Sufficient,
    bootstrap_totals,
    cluster_t_interval,
    mean_interval,
    percentile_interval,
    t_interval,
    wilson_interval,
)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (70, 100), (999, 1000), (5, 5)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ci = st.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_t_interval_matches_scipy() -> None:
    x = np.random.default_rng(3).normal(size=57)
    ci = st.ttest_1samp(x, 0).confidence_interval(0.9)
    assert t_interval(x, 0.9) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_cluster_t_hand_worked() -> None:
    # mean 0.5; cluster residual sums 0, 1, -1 → Σu² = 2; var = 3/2 · 2 / 6² = 1/12;
    # half-width = t(0.975, df=2) · sqrt(1/12) = 4.302653 · 0.288675 = 1.242069
    x = np.array([1, 0, 1, 1, 0, 0], dtype=float)
    g = np.array([0, 0, 1, 1, 2, 2])
    low, high = cluster_t_interval(x, g)  # type: ignore[misc]
    assert (high - low) / 2 == pytest.approx(4.302653 * math.sqrt(1 / 12), rel=1e-6)
    assert (low + high) / 2 == pytest.approx(0.5)


def test_intervals_need_two_units() -> None:
    assert t_interval(np.array([1.0])) is None
    assert cluster_t_interval(np.array([1.0, 0.0]), np.array([0, 0])) is None
    assert mean_interval(np.array([0.0, 1.0, 1.0]))[1] == "wilson"
    assert mean_interval(np.array([0.5, 1.0]))[1] == "t"


def test_accuracy_interval_coverage() -> None:
    """Acceptance: on simulated data with known accuracy, the 95 % CI covers it 93–97 % of the
    time (2,000 simulated test sets of 300 items, true accuracy 0.72)."""
    rng = np.random.default_rng(20261125)
    true_p, n, sims = 0.72, 300, 2000
    covered = 0
    for _ in range(sims):
        scores = (rng.random(n) < true_p).astype(float)
        (low, high), method = mean_interval(scores)  # type: ignore[misc]
        covered += low <= true_p <= high
    assert method == "wilson"
    assert 0.93 <= covered / sims <= 0.97, covered / sims


def test_clustered_interval_coverage() -> None:
    """With clustered items (shared passage effect), the cluster interval keeps its coverage;
    the naive interval, which treats items as independent, does not."""
    rng = np.random.default_rng(7)
    n_clusters, size, sims = 60, 5, 1000
    clusters = np.repeat(np.arange(n_clusters), size)
    covered_cluster = covered_naive = 0
    for _ in range(sims):
        # each cluster has its own difficulty: p_c ~ Beta(2, 1) (mean 2/3)
        p = rng.beta(2, 1, n_clusters)
        scores = (rng.random(n_clusters * size) < np.repeat(p, size)).astype(float)
        (lo, hi), _ = mean_interval(scores, clusters)  # type: ignore[misc]
        covered_cluster += lo <= 2 / 3 <= hi
        (lo, hi), _ = mean_interval(scores)  # type: ignore[misc]
        covered_naive += lo <= 2 / 3 <= hi
    assert 0.93 <= covered_cluster / sims <= 0.97, covered_cluster / sims
    assert covered_naive / sims < 0.91, covered_naive / sims


def _macro_f1() -> object:
    return next(cls for cls in METRICS if cls.name == "macro_f1")()


def test_pooled_bootstrap_equals_index_resampling() -> None:
    """Multinomial draws over confusion cells have the same distribution as resampling items:
    compare the two bootstrap distributions of macro-F1 on the same data."""
    rng = np.random.default_rng(1)
    n = 400
    refs = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]).tolist()
    preds = [r if rng.random() < 0.7 else str(rng.choice(["a", "b", "c"])) for r in refs]
    data = encode_labels(refs, preds)
    metric = _macro_f1()
    suff = metric.sufficient(data)  # type: ignore[attr-defined]
    pooled = metric.from_totals(  # type: ignore[attr-defined]
        bootstrap_totals(suff, 20000, np.random.default_rng(2)), data
    )[:, 0]
    per_item = Sufficient.per_item(suff.table[suff.codes])
    idx = np.random.default_rng(3).integers(0, n, size=(20000, n))
    counts = np.stack([np.bincount(row, minlength=n) for row in idx]).astype(float)
    plain = metric.from_totals(counts @ per_item.table, data)[:, 0]  # type: ignore[attr-defined]
    assert pooled.mean() == pytest.approx(plain.mean(), abs=2e-3)
    assert pooled.std() == pytest.approx(plain.std(), rel=0.05)
    assert percentile_interval(pooled[:, None])[0] == pytest.approx(
        percentile_interval(plain[:, None])[0], abs=5e-3
    )


def test_cluster_bootstrap_resamples_whole_clusters() -> None:
    table = np.eye(2)
    suff = Sufficient(np.array([0, 0, 1, 1]), table)
    clusters = np.array([0, 0, 1, 1])
    totals = bootstrap_totals(suff, 500, np.random.default_rng(0), clusters)
    # each replicate draws 2 clusters of 2 identical items: totals are (4,0), (2,2) or (0,4)
    assert set(map(tuple, totals.astype(int))) <= {(4, 0), (2, 2), (0, 4)}
