"""Bradley–Terry fits against choix, and their bootstrap intervals."""

from __future__ import annotations

import choix
import numpy as np
import pytest
from scipy.special import expit

from palmares.stats import bradley_terry, bradley_terry_intervals, fit_wins, wins_matrix


def _battles(
    rng: np.random.Generator, strengths: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    k = strengths.size
    i = rng.integers(0, k, n)
    j = (i + rng.integers(1, k, n)) % k  # a different opponent
    i_wins = rng.random(n) < expit(strengths[i] - strengths[j])
    return np.where(i_wins, i, j), np.where(i_wins, j, i)


def test_wins_matrix() -> None:
    w = wins_matrix(np.array([0, 0, 2]), np.array([1, 1, 0]))
    assert w.tolist() == [[0, 2, 0], [0, 0, 0], [1, 0, 0]]
    assert wins_matrix(np.array([0]), np.array([1]), n_players=4).shape == (4, 4)


def test_maximum_likelihood_matches_choix() -> None:
    rng = np.random.default_rng(0)
    truth = np.array([1.0, 0.5, 0.0, -0.3, -1.2])
    winners, losers = _battles(rng, truth, 3000)
    ours = bradley_terry(winners, losers)
    data = list(zip(winners.tolist(), losers.tolist(), strict=True))
    ilsr = choix.ilsr_pairwise(5, data, tol=1e-12)
    mm = choix.mm_pairwise(5, data, tol=1e-12)
    assert ours.sum() == pytest.approx(0.0, abs=1e-12)
    assert ours == pytest.approx(ilsr - ilsr.mean(), abs=1e-7)
    assert ours == pytest.approx(mm - mm.mean(), abs=1e-7)
    assert ours == pytest.approx(truth - truth.mean(), abs=0.15)


def test_penalised_fit_matches_choix_opt() -> None:
    """A sparse, not strongly connected set (player 3 never loses): no maximum-likelihood
    fit, but the penalised one (``alpha Σθ²``, choix's convention) exists."""
    winners = np.array([0, 1, 2, 0, 3, 3, 1])
    losers = np.array([1, 2, 0, 2, 0, 1, 0])
    ours = bradley_terry(winners, losers, alpha=0.1)
    data = list(zip(winners.tolist(), losers.tolist(), strict=True))
    ref = choix.opt_pairwise(4, data, alpha=0.1, tol=1e-10)
    assert ours == pytest.approx(ref - ref.mean(), abs=1e-6)
    assert int(np.argmax(ours)) == 3
    with pytest.raises(ValueError, match="alpha > 0"):
        bradley_terry(winners, losers)  # no maximum-likelihood fit
    # bootstrap replicates of sparse data lose connectivity: still finite, just wide
    fit = bradley_terry_intervals(
        winners, losers, alpha=0.1, replicates=200, rng=np.random.default_rng(0)
    )
    assert np.all(np.isfinite(fit.low)) and np.all(np.isfinite(fit.high))
    assert np.all(fit.high - fit.low > 0.5)


def test_batched_fit_equals_single_fits() -> None:
    rng = np.random.default_rng(1)
    mats = np.stack([wins_matrix(*_battles(rng, np.array([0.5, 0, -0.5]), 300)) for _ in range(4)])
    batch = fit_wins(mats)
    for b in range(4):
        assert batch[b] == pytest.approx(fit_wins(mats[b]), abs=1e-10)


def test_bootstrap_intervals() -> None:
    rng = np.random.default_rng(2)
    truth = np.array([0.8, 0.2, 0.0, -1.0])
    winners, losers = _battles(rng, truth, 2000)
    fit = bradley_terry_intervals(winners, losers, replicates=400, rng=np.random.default_rng(3))
    centred = truth - truth.mean()
    assert np.all(fit.low <= fit.strengths) and np.all(fit.strengths <= fit.high)
    assert np.all((fit.low <= centred) & (centred <= fit.high))
    # the standard error of the strength of a player with ~1000 games is ~0.07
    assert np.all(fit.high - fit.low < 0.45)
    assert fit.win_probability[0, 3] == pytest.approx(expit(fit.strengths[0] - fit.strengths[3]))
    assert fit.probability_low[0, 3] < fit.win_probability[0, 3] < fit.probability_high[0, 3]
    assert fit.win_probability + fit.win_probability.T == pytest.approx(np.ones((4, 4)))


def test_bootstrap_interval_coverage() -> None:
    """Over 60 simulated tournaments, the 95 % intervals of four strengths cover the truth
    in ≥ 88 % of the 240 cases (binomial 3.5σ band around 95 %)."""
    truth = np.array([0.6, 0.1, -0.2, -0.5])
    centred = truth - truth.mean()
    rng = np.random.default_rng(4)
    covered = 0
    for _ in range(60):
        winners, losers = _battles(rng, truth, 600)
        fit = bradley_terry_intervals(winners, losers, replicates=200, rng=rng)
        covered += int(np.sum((fit.low <= centred) & (centred <= fit.high)))
    assert covered / 240 >= 0.88, covered / 240
