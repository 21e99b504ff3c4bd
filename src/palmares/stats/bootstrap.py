"""Vectorised bootstrap for corpus statistics (F1, MCC, BLEU, chrF, RMSE, ECE…).

A corpus statistic is a function of *additive sufficient statistics*: the sum over items of a small
vector per item (confusion-matrix cells for F1, n-gram match counts for BLEU). Resampling items
with replacement then only changes how many times each item's vector is counted, so one bootstrap
replicate is ``counts @ table``, and B replicates are one matrix product.

Items whose vectors are identical are pooled first (``Sufficient.codes``): for a classification
task, a million items fall into K² confusion cells, and resampling n items with replacement is
exactly a multinomial draw of n over those K² cells. Sampling the multinomial directly gives the
same bootstrap distribution as resampling a million indices, at the cost of K² draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

_MAX_CELLS_PER_CHUNK = 20_000_000  # bounds memory of the (replicates × units) count matrix


@dataclass(frozen=True)
class Sufficient:
    """Per-item sufficient statistics, pooled: item ``i`` contributes ``table[codes[i]]``.

    ``table`` has one row per distinct vector (``m`` rows, ``d`` statistics); ``codes`` maps each
    of the ``n`` items to its row. For statistics that rarely repeat (BLEU), ``codes`` is simply
    ``arange(n)`` and ``table`` holds one row per item.
    """

    codes: NDArray[np.int64]
    table: NDArray[np.float64]

    @classmethod
    def per_item(cls, table: NDArray[np.float64]) -> Sufficient:
        return cls(np.arange(table.shape[0], dtype=np.int64), np.asarray(table, dtype=np.float64))

    @property
    def n(self) -> int:
        return int(self.codes.size)

    def counts(self) -> NDArray[np.int64]:
        """How many items share each row of ``table``."""
        return np.bincount(self.codes, minlength=self.table.shape[0])

    def totals(self, counts: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """Sum of the items' vectors, shape ``(1, d)`` (``counts``: from :meth:`counts`)."""
        counts = self.counts() if counts is None else counts
        return (counts.astype(np.float64) @ self.table)[None, :]

    def subset(self, items: NDArray[np.int64] | NDArray[np.bool_]) -> Sufficient:
        """The statistics of some items only (positions or a boolean mask)."""
        return Sufficient(self.codes[items], self.table)


def bootstrap_totals(
    suff: Sufficient,
    replicates: int,
    rng: np.random.Generator,
    clusters: NDArray[np.int64] | None = None,
    counts: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """Totals of ``replicates`` bootstrap resamples, shape ``(replicates, d)``.

    Without clusters, items are resampled with replacement. With clusters (items sharing a group
    field), whole clusters are resampled, which keeps the dependence between their items.
    ``counts`` (from ``suff.counts()``) saves recounting when the caller has them.
    """
    if clusters is None:
        counts = suff.counts() if counts is None else counts
        units_table = suff.table[counts > 0]
        probs = counts[counts > 0] / suff.n
        n_draws = suff.n
    else:
        # Pool each cluster's items into one vector: the resampling unit is the cluster.
        _, cluster_idx = np.unique(clusters, return_inverse=True)
        n_clusters = int(cluster_idx.max()) + 1
        units_table = np.zeros((n_clusters, suff.table.shape[1]))
        np.add.at(units_table, cluster_idx, suff.table[suff.codes])
        probs = np.full(n_clusters, 1.0 / n_clusters)
        n_draws = n_clusters
    m = units_table.shape[0]
    out = np.empty((replicates, units_table.shape[1]))
    chunk = max(1, min(replicates, _MAX_CELLS_PER_CHUNK // max(m, 1)))
    for start in range(0, replicates, chunk):
        stop = min(replicates, start + chunk)
        draws = rng.multinomial(n_draws, probs, size=stop - start).astype(np.float64)
        out[start:stop] = draws @ units_table
    return out


def percentile_interval(
    replicates: NDArray[np.float64], confidence: float = 0.95
) -> NDArray[np.float64]:
    """Percentile interval per column of ``replicates`` (shape ``(B, k)``) → ``(k, 2)``."""
    alpha = (1 - confidence) / 2
    return np.quantile(replicates, [alpha, 1 - alpha], axis=0).T


def bootstrap_means(
    scores: NDArray[np.float64],
    replicates: int,
    rng: np.random.Generator,
    clusters: NDArray[np.int64] | None = None,
    dtype: type[np.floating[Any]] = np.float32,
) -> NDArray[np.float64]:
    """Bootstrap replicates of the mean of each column of ``scores`` ``(n, k)`` → ``(B, k)``.

    Every system (column) is resampled with the *same* items in each replicate, which is what
    rank intervals and paired differences need and what makes the work one matrix product:
    ``counts (B × n) @ scores (n × k)``. The counts come from index draws counted row by row
    (exactly the multinomial of the bootstrap), in chunks that bound memory.

    float32 is safe here: counts are small integers (exact), and the scores are centred on
    their mean first, so the products carry only the deviations; their rounding error
    (~1e-7 relative) is far below the Monte-Carlo error of the bootstrap (~1/√B).
    """
    x = np.asarray(scores, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    centre = x.mean(axis=0)
    if clusters is None:
        units = (x - centre).astype(dtype)
        sizes = None
    else:
        _, idx = np.unique(clusters, return_inverse=True)
        n_units = int(idx.max()) + 1
        summed = np.zeros((n_units, x.shape[1]))
        np.add.at(summed, idx, x - centre)
        units = summed.astype(dtype)
        sizes = np.bincount(idx, minlength=n_units).astype(dtype)
    m = units.shape[0]
    out = np.empty((replicates, x.shape[1]))
    step = max(1, min(replicates, _MAX_CELLS_PER_CHUNK // m))
    counts = np.empty((step, m), dtype=dtype)
    for start in range(0, replicates, step):
        size = min(step, replicates - start)
        draws = rng.integers(0, m, size=(size, m), dtype=np.int32)
        for r in range(size):  # a per-row bincount stays in cache; a flat one does not
            counts[r] = np.bincount(draws[r], minlength=m)
        deviation = (counts[:size] @ units).astype(np.float64)
        n_items = float(m) if sizes is None else (counts[:size] @ sizes).astype(np.float64)[:, None]
        out[start : start + size] = centre + deviation / n_items
    return out
