"""BCa and percentile bootstrap intervals, against scipy.stats.bootstrap and hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st
from tests.stats.synthetic import macro_f1, macro_f1_table

from palmares.stats import (
    Sufficient,
    acceleration,
    bca_interval,
    bootstrap_interval,
)


def test_acceleration_hand_worked() -> None:
    # jackknife means of x = (1, 2, 3, 10): (15/3, 14/3, 13/3, 6/3) = 5, 4.667, 4.333, 2
    # θ̄ = 4; u = θ̄ − θ_j = (−1, −0.667, −0.333, 2); Σu² = 1 + 4/9 + 1/9 + 4 = 50/9;
    # Σu³ = −1 − 8/27 − 1/27 + 8 = 180/27 = 20/3; a = (20/3) / (6 · (50/9)^1.5) = 0.08485
    jack = np.array([[5.0], [14 / 3], [13 / 3], [2.0]])
    a = acceleration(jack, np.ones(4))
    assert a[0] == pytest.approx((20 / 3) / (6 * (50 / 9) ** 1.5), rel=1e-12)
    # pooled rows with weights give the same as repeated rows
    assert acceleration(np.array([[1.0], [3.0]]), np.array([3, 1]))[0] == pytest.approx(
        acceleration(np.array([[1.0], [1.0], [1.0], [3.0]]), np.ones(4))[0]
    )


def test_bca_without_bias_or_skew_is_the_percentile_interval() -> None:
    # symmetric replicates centred on the estimate, zero acceleration → plain percentiles
    reps = np.linspace(-1, 1, 2001)[:, None]
    ci = bca_interval(reps, np.array([0.0]), np.array([[1.0], [-1.0]]), np.ones(2), 0.9)
    assert ci[0] == pytest.approx(np.quantile(reps[:, 0], [0.05, 0.95]), abs=1e-12)


def test_bca_formula_matches_scipy_on_the_same_replicates() -> None:
    """Given scipy's own bootstrap distribution and the jackknife of the mean, our BCa
    endpoints are scipy's to rounding (ties, bias correction, acceleration, interpolation)."""
    x = np.random.default_rng(5).lognormal(size=40)
    res = st.bootstrap((x,), np.mean, method="BCa", n_resamples=9999, rng=1)
    jack = ((x.sum() - x) / 39)[:, None]
    ci = bca_interval(res.bootstrap_distribution[:, None], np.array([x.mean()]), jack, np.ones(40))
    assert ci[0] == pytest.approx(res.confidence_interval, rel=1e-12)
    # discrete replicates with many ties at the estimate (accuracy of 30 items)
    y = (np.random.default_rng(6).random(30) < 0.8).astype(float)
    res = st.bootstrap((y,), np.mean, method="BCa", n_resamples=4999, rng=2)
    jack = ((y.sum() - y) / 29)[:, None]
    ci = bca_interval(res.bootstrap_distribution[:, None], np.array([y.mean()]), jack, np.ones(30))
    assert ci[0] == pytest.approx(res.confidence_interval, rel=1e-12)


def test_bca_mean_matches_scipy() -> None:
    """Skewed scores (lognormal, n = 40): BCa endpoints agree with scipy's BCa within
    Monte-Carlo error (two independent runs of 40,000 resamples each)."""
    x = np.random.default_rng(5).lognormal(size=40)
    ours = bootstrap_interval(x, replicates=40_000, rng=np.random.default_rng(1))
    ref = st.bootstrap((x,), np.mean, method="BCa", n_resamples=40_000, rng=2)
    ref_pct = st.bootstrap((x,), np.mean, method="percentile", n_resamples=40_000, rng=2)
    assert ours.estimate == pytest.approx(x.mean())
    assert (ours.low, ours.high) == pytest.approx(ref.confidence_interval, abs=0.02)
    # the correction is real: BCa moves the interval right of the percentile one for this skew
    assert ours.high > ref_pct.confidence_interval.high + 0.02


def test_bca_corpus_statistic_matches_scipy_paired() -> None:
    """Macro-F1 as a function of per-item one-hot cells: scipy resamples the 9 cell columns
    as paired samples; its jackknife leaves out one item in every column, like ours."""
    rng = np.random.default_rng(8)
    table = macro_f1_table(rng, 150)

    def stat(*cols: np.ndarray, axis: int = -1) -> np.ndarray:
        sums = [c.sum(axis=axis) for c in cols]
        return macro_f1(np.stack(sums, axis=-1).reshape(-1, 9)).reshape(np.shape(sums[0]))

    ref = st.bootstrap(
        tuple(table.T), stat, paired=True, vectorized=True, method="BCa", n_resamples=20_000, rng=3
    )
    ours = bootstrap_interval(table, macro_f1, replicates=20_000, rng=np.random.default_rng(4))
    assert ours.estimate == pytest.approx(float(macro_f1(table.sum(axis=0)[None])[0]))
    assert (ours.low, ours.high) == pytest.approx(ref.confidence_interval, abs=0.006)


def test_percentile_interval_and_sufficient_input() -> None:
    rng = np.random.default_rng(0)
    table = macro_f1_table(rng, 300)
    codes = table.argmax(axis=1)
    pooled = Sufficient(codes, np.eye(9))
    a = bootstrap_interval(table, macro_f1, method="percentile", rng=np.random.default_rng(1))
    b = bootstrap_interval(pooled, macro_f1, method="percentile", rng=np.random.default_rng(1))
    assert (a.low, a.high, a.method) == (b.low, b.high, "percentile")
    ref = st.bootstrap(
        (np.arange(300),),
        lambda i, axis=-1: macro_f1(table[i].sum(axis=-2)),
        method="percentile",
        n_resamples=5000,
        rng=2,
        vectorized=True,
    )
    assert (a.low, a.high) == pytest.approx(ref.confidence_interval, abs=0.01)


def test_cluster_bootstrap_interval_is_wider_with_shared_difficulty() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(2, 1, 40)
    x = (rng.random(400) < np.repeat(p, 10)).astype(float)
    clusters = np.repeat(np.arange(40), 10)
    plain = bootstrap_interval(x, rng=np.random.default_rng(1))
    clustered = bootstrap_interval(x, clusters=clusters, rng=np.random.default_rng(1))
    assert clustered.estimate == pytest.approx(x.mean())
    assert clustered.high - clustered.low > 1.5 * (plain.high - plain.low)
