"""Acceptance 1, small: interval coverage and type-I error on simulated data with known truth.

800 simulated datasets per case; each rate must fall in the band that a correct
method hits with high probability, ``p ± 3 · sqrt(p(1 − p)/sims)`` around the nominal p. The
full version (≥ 2,000 datasets, tighter) is bench/coverage.py; its figures are in
docs/statistics.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from tests.stats.synthetic import (
    TRUE_MACRO_F1,
    accuracy_null_pair,
    band,
    chrf,
    chrf_null_pair,
    chrf_population,
    clustered_accuracy,
    continuous_null_pair,
    macro_f1,
    macro_f1_null_pair,
    macro_f1_table,
)

from palmares.stats import (
    bootstrap_interval,
    mcnemar,
    mean_interval,
    paired_bootstrap,
    paired_permutation,
)

SIMS = 800
B = 1000


def _assert_in_band(rate: float, nominal: float, what: str) -> None:
    low, high = band(SIMS, nominal, z=3.0)
    assert low <= rate <= high, f"{what}: {rate:.3f} outside [{low:.3f}, {high:.3f}]"


def _coverage(
    draw: Callable[[np.random.Generator], np.ndarray], statistic: object, truth: float, seed: int
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    hits = {"percentile": 0, "bca": 0}
    for _ in range(SIMS):
        data = draw(rng)
        for method in hits:
            ci = bootstrap_interval(
                data,
                statistic,
                method=method,
                replicates=B,
                rng=rng,  # type: ignore[arg-type]
            )
            hits[method] += ci.low <= truth <= ci.high
    return {k: v / SIMS for k, v in hits.items()}


def test_accuracy_coverage() -> None:
    rng = np.random.default_rng(1)
    wilson = 0
    for _ in range(SIMS):
        (low, high), _ = mean_interval((rng.random(300) < 0.72).astype(float))  # type: ignore[misc]
        wilson += low <= 0.72 <= high
    _assert_in_band(wilson / SIMS, 0.95, "accuracy, Wilson")
    rates = _coverage(lambda r: (r.random(300) < 0.72).astype(float), None, 0.72, 2)
    for method, rate in rates.items():
        _assert_in_band(rate, 0.95, f"accuracy, {method}")


def test_macro_f1_coverage() -> None:
    rates = _coverage(lambda r: macro_f1_table(r, 300), macro_f1, TRUE_MACRO_F1, 3)
    for method, rate in rates.items():
        _assert_in_band(rate, 0.95, f"macro-F1, {method}")


def test_chrf_coverage() -> None:
    population = chrf_population(50_000)
    rates = _coverage(lambda r: population.draw(r, 100), chrf, population.truth, 4)
    for method, rate in rates.items():
        _assert_in_band(rate, 0.95, f"chrF, {method}")


def test_clustered_bootstrap_coverage() -> None:
    """60 clusters of 5 items sharing a difficulty: resampling clusters keeps the coverage."""
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(SIMS):
        scores, clusters = clustered_accuracy(rng, 60, 5)
        ci = bootstrap_interval(scores, clusters=clusters, replicates=B, rng=rng)
        hits += ci.low <= 2 / 3 <= ci.high
    _assert_in_band(hits / SIMS, 0.95, "clustered accuracy, BCa")


@pytest.mark.parametrize(
    ("name", "pair", "statistic", "n", "mcnemar_too"),
    [
        ("accuracy", accuracy_null_pair, None, 1000, True),
        ("continuous item scores", continuous_null_pair, None, 200, False),
        ("macro-F1", macro_f1_null_pair, macro_f1, 300, False),
        ("chrF", chrf_null_pair, chrf, 100, False),
    ],
)
def test_paired_tests_type_one_error(
    name: str,
    pair: Callable[..., tuple[np.ndarray, np.ndarray]],
    statistic: object,
    n: int,
    mcnemar_too: bool,
) -> None:
    """Two exchangeable systems (true difference 0): each test rejects at α = 5 % in about
    5 % of the simulated datasets."""
    rng = np.random.default_rng(6)
    rejections = {"bootstrap": 0, "permutation": 0, "mcnemar": 0}
    for _ in range(SIMS):
        a, b = pair(rng, n)
        boot = paired_bootstrap(a, b, statistic, replicates=B, rng=rng)  # type: ignore[arg-type]
        perm = paired_permutation(a, b, statistic, permutations=B, rng=rng)  # type: ignore[arg-type]
        rejections["bootstrap"] += boot.p_value < 0.05
        rejections["permutation"] += perm.p_value < 0.05
        if mcnemar_too:
            rejections["mcnemar"] += mcnemar(a, b).p_value < 0.05
    for test in ("bootstrap", "permutation") + (("mcnemar",) if mcnemar_too else ()):
        _assert_in_band(rejections[test] / SIMS, 0.05, f"{name}, {test}")
