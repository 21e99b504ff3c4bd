"""Paired bootstrap, paired permutation and McNemar, against scipy and hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st
from tests.stats.synthetic import macro_f1, macro_f1_table

from palmares.stats import mcnemar, paired_bootstrap, paired_permutation


def test_paired_bootstrap_of_a_mean_is_the_bootstrap_of_differences() -> None:
    rng = np.random.default_rng(0)
    a = rng.beta(2, 3, 400)
    b = np.clip(a + rng.normal(0.03, 0.1, 400), 0, 1)
    res = paired_bootstrap(b, a, replicates=20_000, rng=np.random.default_rng(1))
    ref = st.bootstrap((b - a,), np.mean, method="percentile", n_resamples=20_000, rng=2)
    assert res.difference == pytest.approx(float((b - a).mean()))
    # Monte-Carlo error of a 2.5 % endpoint here: ~2e-4
    assert (res.low, res.high) == pytest.approx(ref.confidence_interval, abs=1.5e-3)
    assert res.p_value < 0.001
    assert res.method == "paired bootstrap (percentile)"
    bca = paired_bootstrap(b, a, interval="bca", replicates=20_000, rng=np.random.default_rng(1))
    ref_bca = st.bootstrap((b - a,), np.mean, method="BCa", n_resamples=20_000, rng=2)
    assert (bca.low, bca.high) == pytest.approx(ref_bca.confidence_interval, abs=1.5e-3)


def test_paired_bootstrap_corpus_statistic_matches_scipy() -> None:
    """Difference of macro-F1 between two systems on the same items: scipy resamples item
    indices into the stacked tables of both systems."""
    rng = np.random.default_rng(3)
    ta, tb = macro_f1_table(rng, 300), macro_f1_table(rng, 300)

    def diff(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        return macro_f1(ta[idx].sum(axis=-2)) - macro_f1(tb[idx].sum(axis=-2))

    ref = st.bootstrap(
        (np.arange(300),), diff, method="percentile", n_resamples=10_000, rng=4, vectorized=True
    )
    res = paired_bootstrap(ta, tb, macro_f1, rng=np.random.default_rng(5))
    assert res.difference == pytest.approx(float(diff(np.arange(300)[None])[0]))
    assert (res.low, res.high) == pytest.approx(ref.confidence_interval, abs=0.01)


def test_identical_systems() -> None:
    a = np.random.default_rng(0).random(50)
    assert paired_bootstrap(a, a, replicates=500).p_value == 1.0
    res = paired_permutation(a, a)
    assert (res.difference, res.p_value) == (0.0, 1.0)


def test_exact_sign_flip_matches_scipy_permutation_test() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(12)
    b = a + rng.normal(0.15, 0.2, 12)
    res = paired_permutation(b, a, permutations=5000)
    ref = st.permutation_test(
        (b, a), lambda x, y, axis=-1: x.mean(axis) - y.mean(axis), permutation_type="samples"
    )
    assert res.method == "paired permutation (exact)"
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert np.isnan(res.low) and np.isnan(res.high)
    # random permutations: within Monte-Carlo error of the exact p-value
    approx = paired_permutation(b, a, permutations=2000, rng=np.random.default_rng(2))
    assert approx.method == "paired permutation"
    assert approx.p_value == pytest.approx(ref.pvalue, abs=4 * np.sqrt(0.25 / 2000))


def test_exact_label_swap_of_a_corpus_statistic_matches_scipy() -> None:
    """Macro-F1 of two systems on 13 items: swapping the systems' cells item by item is
    scipy's 'samples' permutation of item indices into the stacked tables."""
    rng = np.random.default_rng(7)
    ta, tb = macro_f1_table(rng, 13), macro_f1_table(rng, 13)
    stacked = np.vstack([ta, tb])

    def diff(ia: np.ndarray, ib: np.ndarray, axis: int = -1) -> np.ndarray:
        sa, sb = stacked[ia].sum(axis=-2), stacked[ib].sum(axis=-2)
        return (macro_f1(sa.reshape(-1, 9)) - macro_f1(sb.reshape(-1, 9))).reshape(ia.shape[:-1])

    ref = st.permutation_test(
        (np.arange(13), np.arange(13, 26)), diff, permutation_type="samples", vectorized=True
    )
    res = paired_permutation(ta, tb, macro_f1, permutations=10_000)
    assert res.method == "paired permutation (exact)"
    assert res.difference == pytest.approx(float(ref.statistic))
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_sign_flip_on_accuracies_is_mcnemar_exact() -> None:
    """On 0/1 scores the sign-flip distribution is Binomial(discordant, ½): the exact
    permutation p-value is the exact McNemar (binomial) p-value."""
    a = np.array([1] * 9 + [0] * 3 + [1] * 20 + [0] * 8, dtype=float)
    b = np.array([0] * 9 + [1] * 3 + [1] * 20 + [0] * 8, dtype=float)
    perm = paired_permutation(a, b, permutations=5000)
    mc = mcnemar(a, b)
    assert mc.method == "McNemar exact binomial"
    assert mc.p_value == pytest.approx(st.binomtest(9, 12, 0.5).pvalue)
    assert perm.p_value == pytest.approx(mc.p_value, rel=1e-12)
    assert perm.difference == pytest.approx(6 / 40)


def test_mcnemar_chi_square_hand_worked() -> None:
    # n = 200, n10 = 30 (A alone right), n01 = 15: χ² = (15 − 1)² / 45 = 4.3556, p = 0.036888;
    # difference 15/200 = 0.075, Wald half-width 1.96 · sqrt(45 − 15²/200) / 200 = 0.064912
    a = np.r_[np.ones(30), np.zeros(15), np.ones(100), np.zeros(55)]
    b = np.r_[np.zeros(30), np.ones(15), np.ones(100), np.zeros(55)]
    res = mcnemar(a, b)
    assert res.method == "McNemar chi-square (continuity corrected)"
    assert res.p_value == pytest.approx(0.036888425707, rel=1e-9)
    assert st.chi2.sf(196 / 45, 1) == pytest.approx(res.p_value)
    assert res.difference == pytest.approx(0.075)
    assert (res.high - res.low) / 2 == pytest.approx(0.0649122496, rel=1e-8)
    assert mcnemar(a, b, exact=True).p_value == pytest.approx(st.binomtest(30, 45).pvalue)
    assert mcnemar(a, a).p_value == 1.0


def test_clusters_are_resampled_and_swapped_whole() -> None:
    """Eight clusters of 25 items whose whole cluster favours A or B: item-level tests see
    200 independent items and a tiny p-value; cluster-level tests see 8 units."""
    rng = np.random.default_rng(4)
    clusters = np.repeat(np.arange(8), 25)
    shift = np.repeat([0.2, 0.2, 0.2, 0.2, 0.2, -0.2, 0.2, -0.2], 25)
    a = rng.random(200)
    b = np.clip(a - shift + rng.normal(0, 0.02, 200), -1, 2)
    assert paired_permutation(a, b, rng=np.random.default_rng(1)).p_value < 0.001
    exact = paired_permutation(a, b, clusters=clusters)
    assert exact.method == "paired permutation (exact)"  # 2^8 cluster swaps enumerated
    assert exact.p_value > 0.05
    wide = paired_bootstrap(a, b, clusters=clusters, rng=np.random.default_rng(2))
    narrow = paired_bootstrap(a, b, rng=np.random.default_rng(2))
    assert wide.high - wide.low > 3 * (narrow.high - narrow.low)
