"""Shared-resampling bootstrap of many systems, and rank intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st
from tests.stats.synthetic import macro_f1, macro_f1_table

from palmares.stats import bootstrap_interval, bootstrap_means, rank_intervals, replicate_values
from palmares.stats.ranks import rank


def test_bootstrap_means_is_index_resampling() -> None:
    """The counts-matrix product gives exactly the means of the resampled items (same draws,
    float32 rounding only)."""
    x = np.random.default_rng(0).random((300, 4))
    ours = bootstrap_means(x, 200, np.random.default_rng(1))
    idx = np.random.default_rng(1).integers(0, 300, size=(200, 300), dtype=np.int32)
    assert ours == pytest.approx(x[idx].mean(axis=1), abs=1e-6)
    assert bootstrap_means(x, 200, np.random.default_rng(1), dtype=np.float64) == pytest.approx(
        x[idx].mean(axis=1), abs=1e-12
    )


def test_bootstrap_means_interval_matches_scipy() -> None:
    x = np.random.default_rng(2).beta(1, 4, 2000)
    reps = bootstrap_means(x, 20_000, np.random.default_rng(3))
    ours = np.quantile(reps[:, 0], [0.025, 0.975])
    ref = st.bootstrap((x,), np.mean, method="percentile", n_resamples=20_000, rng=4)
    assert ours == pytest.approx(ref.confidence_interval, abs=3e-4)  # MC error ~1e-4


def test_bootstrap_means_clusters_is_the_cluster_bootstrap() -> None:
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 8, 60)
    clusters = np.repeat(np.arange(60), sizes)
    x = (rng.random(clusters.size) < np.repeat(rng.beta(2, 1, 60), sizes)).astype(float)
    reps = bootstrap_means(x, 20_000, np.random.default_rng(6), clusters=clusters)
    ref = bootstrap_interval(
        x, method="percentile", replicates=20_000, clusters=clusters, rng=np.random.default_rng(7)
    )
    assert np.quantile(reps[:, 0], [0.025, 0.975]) == pytest.approx((ref.low, ref.high), abs=4e-3)


def test_competition_ranks() -> None:
    assert rank(np.array([0.5, 0.9, 0.5, 0.1])).tolist() == [2, 1, 2, 4]
    assert rank(np.array([0.5, 0.9, 0.5, 0.1]), higher_is_better=False).tolist() == [2, 4, 2, 1]
    assert rank(np.array([[1.0, 2.0], [3.0, 0.0]])).tolist() == [[2, 1], [1, 2]]


def test_rank_intervals() -> None:
    rng = np.random.default_rng(8)
    base = rng.beta(2, 2, 1000)
    # two clearly separated systems, then two indistinguishable ones, then a last one
    shifts = [0.3, 0.2, 0.1, 0.1, -0.1]
    scores = np.column_stack([np.clip(base + s + rng.normal(0, 0.05, 1000), 0, 1) for s in shifts])
    res = rank_intervals(scores, replicates=1000, rng=np.random.default_rng(9))
    assert res.rank[:2].tolist() == [1, 2] and res.rank[4] == 5
    assert list(zip(res.low.tolist(), res.high.tolist(), strict=True)) == [
        (1, 1),
        (2, 2),
        (3, 4),
        (3, 4),
        (5, 5),
    ]
    # lower is better reverses everything
    rev = rank_intervals(
        scores, higher_is_better=False, replicates=500, rng=np.random.default_rng(9)
    )
    assert rev.low[0] == rev.high[0] == 5


def test_rank_intervals_of_a_corpus_statistic() -> None:
    rng = np.random.default_rng(10)
    tables = [macro_f1_table(rng, 400) for _ in range(3)]
    full, reps = replicate_values(tables, macro_f1, replicates=300, rng=np.random.default_rng(1))
    assert full == pytest.approx([macro_f1(t.sum(axis=0)[None])[0] for t in tables])
    assert reps.shape == (300, 3)
    # the same seed gives the same replicates: the intervals are their ranks' percentiles
    res = rank_intervals(tables, macro_f1, replicates=300, rng=np.random.default_rng(1))
    boot_ranks = rank(reps)
    assert res.low.tolist() == np.quantile(boot_ranks, 0.025, axis=0, method="lower").tolist()
    assert res.high.tolist() == np.quantile(boot_ranks, 0.975, axis=0, method="higher").tolist()
    assert np.all(res.low <= res.rank) and np.all(res.rank <= res.high)
    with pytest.raises(ValueError):
        replicate_values(np.zeros((5, 2)), macro_f1)
