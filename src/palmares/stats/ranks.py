"""Rank confidence intervals by bootstrap of ranks.

One resampling of the items is shared by all systems (each replicate re-scores every system on
the same resampled test set), the systems are ranked within each replicate, and each system's
rank interval is the percentile interval of its bootstrap ranks. This is the procedure used for
ranking uncertainty in shared tasks (e.g. WMT's bootstrap rank ranges; Hall & Miller 2009,
"Using the bootstrap to quantify the authority of an empirical ranking", Ann. Stat. 37(6)).
Intervals are marginal (per system), not simultaneous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from palmares.stats._resample import (
    Sample,
    Statistic,
    as_tables,
    evaluate,
    make_units,
    resampled_totals,
)
from palmares.stats.bootstrap import bootstrap_means


@dataclass(frozen=True)
class RankIntervals:
    """Per system (input order): ``rank`` on the full data (1 = best, ties share the best
    rank), and the bootstrap rank interval ``[low, high]`` (integers)."""

    estimates: NDArray[np.float64]
    rank: NDArray[np.int64]
    low: NDArray[np.int64]
    high: NDArray[np.int64]


def rank(values: NDArray[Any], higher_is_better: bool = True) -> NDArray[np.int64]:
    """Competition ranks along the last axis (1 = best; ties share the smaller rank)."""
    v = np.asarray(values, dtype=np.float64)
    out: NDArray[np.int64] = rankdata(-v if higher_is_better else v, method="min", axis=-1).astype(
        np.int64
    )
    return out


def replicate_values(
    samples: Sequence[Sample] | NDArray[np.float64],
    statistic: Statistic | None = None,
    *,
    replicates: int = 2000,
    clusters: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each system's metric on the full data ``(k,)`` and on ``replicates`` shared bootstrap
    resamples ``(B, k)``. ``samples``: one sample per system, or for item means an ``(n, k)``
    score matrix."""
    rng = np.random.default_rng() if rng is None else rng
    if statistic is None:
        # item means: the dedicated matrix-product path (float32, chunked)
        if isinstance(samples, np.ndarray) and samples.ndim == 2:
            scores = np.asarray(samples, dtype=np.float64)
        else:
            scores = np.column_stack([np.asarray(s, dtype=np.float64) for s in samples])
        reps = bootstrap_means(scores, replicates, rng, clusters)
        return scores.mean(axis=0), reps
    if isinstance(samples, np.ndarray):
        raise ValueError("with a statistic, give one sample (table) per system")
    tables, stat = as_tables(samples, statistic)
    d = tables[0].shape[1]
    units = make_units(np.hstack(tables), clusters)
    total = units.total()[None, :]
    totals = resampled_totals(units, replicates, rng)
    k = len(tables)
    full = np.array([evaluate(stat, total[:, i * d : (i + 1) * d])[0] for i in range(k)])
    reps = np.column_stack([evaluate(stat, totals[:, i * d : (i + 1) * d]) for i in range(k)])
    return full, reps


def rank_intervals(
    samples: Sequence[Sample] | NDArray[np.float64],
    statistic: Statistic | None = None,
    *,
    higher_is_better: bool = True,
    replicates: int = 2000,
    confidence: float = 0.95,
    clusters: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> RankIntervals:
    """Bootstrap rank intervals of k systems scored on the same items.

    The interval bounds are order statistics of the bootstrap ranks (``lower``/``higher``
    quantiles), so they are ranks themselves and never narrower than the interpolated ones.
    """
    full, reps = replicate_values(
        samples, statistic, replicates=replicates, clusters=clusters, rng=rng
    )
    ranks = rank(reps, higher_is_better)
    alpha = (1 - confidence) / 2
    low = np.quantile(ranks, alpha, axis=0, method="lower").astype(np.int64)
    high = np.quantile(ranks, 1 - alpha, axis=0, method="higher").astype(np.int64)
    return RankIntervals(full, rank(full, higher_is_better), low, high)
