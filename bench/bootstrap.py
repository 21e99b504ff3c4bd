"""Bench: bootstrap CIs for a whole leaderboard against scipy.stats.bootstrap per system.

Acceptance 2 of issue #6: 50 systems × 10,000 items × 10,000 resamples. Palmarès draws one
resampling of the items shared by all systems and gets every replicate mean from one matrix
product per chunk (``stats.bootstrap_means``: counts (chunk × n, float32) @ centred scores
(n × 50)); scipy is called once per system with ``method='percentile', vectorized=True`` and
the fastest ``batch`` measured here (1,000 resamples per batch, ~0.44 s per system; 500 to
10,000 take 0.42–1.7 s, and ``batch=None`` materialises 10⁸ indices at once: 12 s).
Goal: the same CIs within Monte-Carlo error, ≥ 20× faster.

The scipy side takes ~0.5 s per system on the 2-core machine, so by default it runs on all 50
systems; ``--scipy-systems k`` times the first k only and extrapolates linearly to 50 (each
call is independent and the same size), and the output says so.

Usage, from the repository root::

    .venv/bin/python bench/bootstrap.py [--repeat 3] [--scipy-systems 50] [--batch 1000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from scipy import stats
from scipy.stats import norm

from palmares.stats import bootstrap_means

SYSTEMS, ITEMS, RESAMPLES = 50, 10_000, 10_000


def make_scores(seed: int = 20261126) -> np.ndarray:
    """Item scores in [0, 1] (token-F1-like, continuous: no pooling shortcut) for 50 systems of
    increasing quality, sharing a per-item difficulty."""
    rng = np.random.default_rng(seed)
    difficulty = rng.beta(2, 2, ITEMS)
    quality = np.linspace(-0.3, 0.3, SYSTEMS)
    noise = rng.normal(0, 0.25, (ITEMS, SYSTEMS))
    return np.clip(difficulty[:, None] + quality[None, :] + noise, 0, 1)


def ours(scores: np.ndarray, seed: int) -> np.ndarray:
    reps = bootstrap_means(scores, RESAMPLES, np.random.default_rng(seed))
    return np.quantile(reps, [0.025, 0.975], axis=0).T  # (systems, 2)


def scipy_per_system(scores: np.ndarray, systems: int, seed: int, batch: int) -> np.ndarray:
    out = np.empty((systems, 2))
    for j in range(systems):
        res = stats.bootstrap(
            (scores[:, j],),
            np.mean,
            method="percentile",
            vectorized=True,
            n_resamples=RESAMPLES,
            batch=batch,
            rng=seed + j,
        )
        out[j] = res.confidence_interval
    return out


def endpoint_se(scores: np.ndarray) -> np.ndarray:
    """Monte-Carlo s.e. of a 2.5 % / 97.5 % bootstrap endpoint of each system's mean:
    sqrt(p(1−p)/B) / density at the quantile, with the bootstrap distribution ≈ normal."""
    sd = scores.std(axis=0) / math.sqrt(ITEMS)
    p = 0.025
    return math.sqrt(p * (1 - p) / RESAMPLES) / (norm.pdf(norm.ppf(p)) / sd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scipy-systems", type=int, default=SYSTEMS)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    scores = make_scores()
    k = args.scipy_systems

    ours(scores[:1000], 0)  # warm-up (BLAS threads, page faults)
    ours_times, scipy_times = [], []
    for r in range(args.repeat):  # interleaved rounds: both sides see the same machine load
        start = time.perf_counter()
        ci_ours = ours(scores, 100 + r)
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ci_scipy = scipy_per_system(scores, k, 1000 * (r + 1), args.batch)
        scipy_times.append(time.perf_counter() - start)
    t_ours = statistics.median(ours_times)
    t_scipy = statistics.median(scipy_times) * SYSTEMS / k

    # agreement: each endpoint's difference in units of the s.e. of a difference of two
    # independent Monte-Carlo estimates (√2 × each one's s.e.)
    se = endpoint_se(scores[:, :k])[:, None] * math.sqrt(2)
    z = (ci_ours[:k] - ci_scipy) / se
    width_ratio = (ci_ours[:k, 1] - ci_ours[:k, 0]) / (ci_scipy[:, 1] - ci_scipy[:, 0])

    print(f"{SYSTEMS} systems × {ITEMS:,} items × {RESAMPLES:,} resamples, percentile 95 % CIs")
    print(
        f"Palmarès bootstrap_means (shared resampling, float32 GEMM): {t_ours:.2f} s "
        f"(median of {args.repeat}: {', '.join(f'{t:.2f}' for t in ours_times)})"
    )
    scope = (
        "all 50 systems"
        if k == SYSTEMS
        else (f"{k} systems timed, × {SYSTEMS / k:g} extrapolated linearly to {SYSTEMS}")
    )
    print(
        f"scipy.stats.bootstrap per system (batch={args.batch}): {t_scipy:.1f} s ({scope}; "
        f"median of {args.repeat}: {', '.join(f'{t:.2f}' for t in scipy_times)} s)"
    )
    print(f"speed-up: {t_scipy / t_ours:.1f}×")
    worst = np.abs(ci_ours[:k] - ci_scipy).max()
    print(
        f"CI agreement on {k} systems: max |Δ endpoint| = {worst:.2e} (MC s.e. of a difference "
        f"≈ {se.mean():.1e}); max |z| = {np.abs(z).max():.2f}, share |z| < 2: "
        f"{np.mean(np.abs(z) < 2):.0%}; width ratio {width_ratio.min():.3f}–{width_ratio.max():.3f}"
    )


if __name__ == "__main__":
    main()
