"""All-pairs comparison of a leaderboard: multiple-testing correction and significance groups.

* :func:`holm` — Holm's step-down adjustment (Holm 1979): controls the family-wise error rate.
* :func:`benjamini_hochberg` — step-up adjustment (Benjamini & Hochberg 1995): controls the false
  discovery rate, for independent or positively dependent tests.
* :func:`all_pairs` — every pair of systems compared with the paired bootstrap (one resampling of
  the items shared by all systems, so all k(k−1)/2 differences come from a single matrix
  product) or the paired permutation test, then adjusted.
* :func:`compact_letters` — the compact letter display of Piepho (2004), "An algorithm for a
  letter-based representation of all-pairwise comparisons", J. Comput. Graph. Stat. 13(2):
  insert-and-absorb, then sweep. Systems sharing a letter are not significantly different;
  letters are ordered by rank (the best system gets ``a``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from palmares.stats._resample import (
    Sample,
    Statistic,
    as_tables,
    evaluate,
    make_units,
    resampled_totals,
)
from palmares.stats.paired import paired_permutation

Correction = Literal["holm", "bh", "none"]
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZαβγδεζηθικλμνξοπρστυφχψω"


def holm(p_values: NDArray[Any]) -> NDArray[np.float64]:
    """Holm-adjusted p-values (same shape): ``max_{j ≤ i} min(1, (m − j + 1) p_(j))``."""
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel()
    m = flat.size
    order = np.argsort(flat, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * flat[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out.reshape(p.shape)


def benjamini_hochberg(p_values: NDArray[Any]) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (q-values): ``min_{j ≥ i} min(1, m p_(j) / j)``."""
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel()
    m = flat.size
    order = np.argsort(flat, kind="stable")
    scaled = flat[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    return out.reshape(p.shape)


@dataclass(frozen=True)
class PairwiseComparison:
    """All pairs of k systems. Matrices are ``(k, k)``, entry ``[i, j]`` about ``θ_i − θ_j``;
    the diagonal is NaN (p-values: 1, significant: False). ``low``/``high`` are the paired
    bootstrap percentile interval of the difference (NaN with the permutation test)."""

    estimates: NDArray[np.float64]
    differences: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    p_values: NDArray[np.float64]
    adjusted: NDArray[np.float64]
    significant: NDArray[np.bool_]
    method: str


def adjust_pairs(p_values: NDArray[Any], correction: Correction) -> NDArray[np.float64]:
    """Adjust a symmetric ``(k, k)`` matrix of pairwise p-values over its k(k−1)/2 pairs."""
    p = np.asarray(p_values, dtype=np.float64)
    iu = np.triu_indices(p.shape[0], 1)
    upper = p[iu]
    if correction == "holm":
        upper = holm(upper)
    elif correction == "bh":
        upper = benjamini_hochberg(upper)
    out = np.ones_like(p)
    out[iu] = upper
    out.T[iu] = upper
    return out


def all_pairs(
    samples: Sequence[Sample],
    statistic: Statistic | None = None,
    *,
    test: Literal["bootstrap", "permutation"] = "bootstrap",
    correction: Correction = "holm",
    alpha: float = 0.05,
    replicates: int = 10_000,
    confidence: float = 0.95,
    clusters: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> PairwiseComparison:
    """Compare every pair of systems evaluated on the same items, with a correction."""
    rng = np.random.default_rng() if rng is None else rng
    tables, stat = as_tables(samples, statistic)
    k, d = len(tables), tables[0].shape[1]
    units = make_units(np.hstack(tables), clusters)
    total = units.total()
    estimates = np.array([evaluate(stat, total[None, i * d : (i + 1) * d])[0] for i in range(k)])
    differences = estimates[:, None] - estimates[None, :]
    low = np.full((k, k), np.nan)
    high = np.full((k, k), np.nan)
    p = np.ones((k, k))
    if test == "bootstrap":
        totals = resampled_totals(units, replicates, rng)
        reps = np.column_stack([evaluate(stat, totals[:, i * d : (i + 1) * d]) for i in range(k)])
        q = (1 - confidence) / 2
        for i in range(k - 1):  # one row of pairs at a time bounds memory at (B, k)
            diff = reps[:, i : i + 1] - reps[:, i + 1 :]
            tail = np.minimum(np.sum(diff <= 0, axis=0), np.sum(diff >= 0, axis=0))
            p[i, i + 1 :] = p[i + 1 :, i] = np.minimum(1.0, 2 * (tail + 1) / (replicates + 1))
            lo, hi = np.quantile(diff, [q, 1 - q], axis=0)
            low[i, i + 1 :], high[i, i + 1 :] = lo, hi
            low[i + 1 :, i], high[i + 1 :, i] = -hi, -lo
        method = f"paired bootstrap, {correction}"
    else:
        for i in range(k - 1):
            for j in range(i + 1, k):
                res = paired_permutation(
                    tables[i], tables[j], stat, permutations=replicates, clusters=clusters, rng=rng
                )
                p[i, j] = p[j, i] = res.p_value
        method = f"paired permutation, {correction}"
    np.fill_diagonal(differences, np.nan)
    adjusted = adjust_pairs(p, correction)
    significant = adjusted < alpha
    np.fill_diagonal(significant, False)
    return PairwiseComparison(estimates, differences, low, high, p, adjusted, significant, method)


def _absorb(columns: list[NDArray[np.bool_]]) -> list[NDArray[np.bool_]]:
    """Drop every column whose systems all belong to another column (duplicates: keep one)."""
    kept: list[NDArray[np.bool_]] = []
    for i, col in enumerate(columns):
        dominated = any(
            (not np.any(col & ~other)) and (np.any(other & ~col) or j < i)
            for j, other in enumerate(columns)
            if j != i
        )
        if not dominated:
            kept.append(col)
    return kept


def compact_letters(
    estimates: NDArray[Any], significant: NDArray[Any], *, higher_is_better: bool = True
) -> list[str]:
    """Letters per system (in the input order) such that two systems share a letter exactly
    when their difference is not significant. ``significant`` is a ``(k, k)`` boolean matrix."""
    est = np.asarray(estimates, dtype=np.float64)
    sig = np.asarray(significant, dtype=bool)
    sig = sig | sig.T
    k = est.size
    order = np.argsort(-est if higher_is_better else est, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    columns: list[NDArray[np.bool_]] = [np.ones(k, dtype=bool)]
    # insert and absorb, pair by pair in rank order (deterministic output)
    rows, cols = np.nonzero(np.triu(sig, 1))
    pairs = sorted(
        (sorted((int(rank[i]), int(rank[j]))), int(i), int(j))
        for i, j in zip(rows, cols, strict=True)
    )
    for _, i, j in pairs:
        new: list[NDArray[np.bool_]] = []
        for col in columns:
            if col[i] and col[j]:
                left, right = col.copy(), col.copy()
                left[i], right[j] = False, False
                new += [left, right]
            else:
                new.append(col)
        columns = _absorb(new)
    # sweep: drop a system from a column when each system it meets there shares another column
    for c in range(len(columns)):
        for t in np.flatnonzero(columns[c]):
            others = np.flatnonzero(columns[c])
            others = others[others != t]
            elsewhere = [col for idx, col in enumerate(columns) if idx != c and col[t]]
            if elsewhere and all(any(col[u] for col in elsewhere) for u in others):
                columns[c][t] = False
    columns = _absorb([col for col in columns if col.any()])
    # name the letters by rank: the column holding the best-ranked systems first
    columns.sort(key=lambda col: tuple(sorted(rank[col].tolist())))
    if len(columns) > len(_ALPHABET):
        raise ValueError(f"more than {len(_ALPHABET)} letters needed")
    return ["".join(_ALPHABET[c] for c, col in enumerate(columns) if col[i]) for i in range(k)]
