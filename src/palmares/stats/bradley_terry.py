"""Bradley–Terry model of pairwise outcomes (arena battles, human preference judgements).

``P(i beats j) = σ(θ_i − θ_j)`` with log-strengths ``θ`` centred on 0 (Bradley & Terry 1952).
Fitted by Newton's method on the log-likelihood, optionally penalised by ``alpha · Σ θ²`` (the
convention of ``choix.opt_pairwise``; ``alpha = 0`` is the maximum-likelihood fit of
``choix.ilsr_pairwise`` / Hunter's MM algorithm, 2004). The maximum-likelihood fit exists only
when every system both wins against and loses to the rest (the graph of wins is strongly
connected); give a small ``alpha`` otherwise.

Intervals: bootstrap over comparisons — resample the list of outcomes with replacement (a
multinomial over the distinct ``(winner, loser)`` pairs), refit every replicate at once (the
Newton iterations are batched over replicates) and take percentiles of the centred strengths
and of the win probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

_MAX_STEP = 2.0  # caps a Newton step (log-strength units): far from the optimum, it overshoots
_RIDGE = 1e-10
# Bootstrap replicates may leave a system without a win or a loss (no maximum-likelihood fit):
# they are fitted with at least this penalty, which barely moves well-posed replicates and keeps
# the others finite (their strengths reach ~±10, widening the interval, as they should).
_BOOT_ALPHA = 1e-4


def wins_matrix(
    winners: NDArray[Any], losers: NDArray[Any], n_players: int | None = None
) -> NDArray[np.float64]:
    """``W[i, j]`` = how many times ``i`` beat ``j``."""
    w = np.asarray(winners, dtype=np.int64)
    lo = np.asarray(losers, dtype=np.int64)
    k = int(max(w.max(initial=-1), lo.max(initial=-1)) + 1) if n_players is None else n_players
    out = np.zeros((k, k))
    np.add.at(out, (w, lo), 1.0)
    return out


def _newton(
    w: NDArray[np.float64], alpha: float, max_iter: int, tol: float
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Batched Newton iterations on ``(B, k, k)`` wins: centred θ ``(B, k)``, converged ``(B,)``."""
    b, k, _ = w.shape
    games = w + w.transpose(0, 2, 1)
    won = w.sum(axis=2)
    theta = np.zeros((b, k))
    # H is a weighted graph Laplacian (singular along the all-ones vector): adding J/k pins the
    # step to mean zero without changing it, since the gradient is orthogonal to ones. The tiny
    # ridge only keeps the solve defined for a system without games.
    regular = np.ones((k, k)) / k + _RIDGE * np.eye(k)
    size = np.full((b, 1), np.inf)
    for _ in range(max_iter):
        p = expit(theta[:, :, None] - theta[:, None, :])
        grad = won - (games * p).sum(axis=2) - 2 * alpha * theta
        weight = games * p * (1 - p)
        hess = -weight + np.eye(k) * (weight.sum(axis=2)[:, :, None] + 2 * alpha) + regular
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        size = np.abs(step).max(axis=1, keepdims=True)
        theta = theta + step * np.minimum(1.0, _MAX_STEP / np.maximum(size, 1e-300))
        if float(size.max()) < tol:
            break
    return theta - theta.mean(axis=1, keepdims=True), size[:, 0] < tol


def fit_wins(
    wins: NDArray[Any], *, alpha: float = 0.0, max_iter: int = 100, tol: float = 1e-10
) -> NDArray[np.float64]:
    """Centred log-strengths from a wins matrix ``(k, k)`` or a batch ``(B, k, k)``.

    Raises ``ValueError`` when the fit does not converge: with ``alpha = 0`` that means no
    maximum-likelihood fit exists (a system never wins or never loses).
    """
    w = np.asarray(wins, dtype=np.float64)
    theta, converged = _newton(w[None] if w.ndim == 2 else w, alpha, max_iter, tol)
    if not converged.all():
        raise ValueError(
            "Bradley–Terry fit did not converge: some system never wins or never loses "
            "(the graph of wins is not strongly connected); pass alpha > 0"
        )
    out: NDArray[np.float64] = theta[0] if w.ndim == 2 else theta
    return out


def bradley_terry(
    winners: NDArray[Any],
    losers: NDArray[Any],
    n_players: int | None = None,
    *,
    alpha: float = 0.0,
) -> NDArray[np.float64]:
    """Centred log-strengths from the list of outcomes ``winners[t]`` beat ``losers[t]``."""
    return fit_wins(wins_matrix(winners, losers, n_players), alpha=alpha)


@dataclass(frozen=True)
class BradleyTerryFit:
    """Strengths ``(k,)`` with their bootstrap interval, and win probabilities ``(k, k)``
    ``P(i beats j)`` with theirs."""

    strengths: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    win_probability: NDArray[np.float64]
    probability_low: NDArray[np.float64]
    probability_high: NDArray[np.float64]


def bradley_terry_intervals(
    winners: NDArray[Any],
    losers: NDArray[Any],
    n_players: int | None = None,
    *,
    alpha: float = 0.0,
    replicates: int = 1000,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    batch: int = 250,
) -> BradleyTerryFit:
    """Bradley–Terry fit with percentile bootstrap intervals (outcomes resampled)."""
    rng = np.random.default_rng() if rng is None else rng
    wins = wins_matrix(winners, losers, n_players)
    theta = fit_wins(wins, alpha=alpha)
    cells = np.flatnonzero(wins)
    n = int(wins.sum())
    reps = np.empty((replicates, wins.shape[0]))
    for start in range(0, replicates, batch):
        size = min(batch, replicates - start)
        draws = rng.multinomial(n, wins.ravel()[cells] / n, size=size)
        boot = np.zeros((size, wins.size))
        boot[:, cells] = draws
        boot_alpha = max(alpha, _BOOT_ALPHA)
        reps[start : start + size] = _newton(
            boot.reshape(size, *wins.shape), boot_alpha, 100, 1e-8
        )[0]
    q = (1 - confidence) / 2
    low, high = np.quantile(reps, [q, 1 - q], axis=0)
    prob = expit(theta[:, None] - theta[None, :])
    prob_reps = expit(reps[:, :, None] - reps[:, None, :])
    p_low, p_high = np.quantile(prob_reps, [q, 1 - q], axis=0)
    return BradleyTerryFit(theta, low, high, prob, p_low, p_high)
