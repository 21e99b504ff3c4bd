"""Shared plumbing of the resampling methods: samples as additive tables, units, counts.

Every method of this package sees a metric the way ``bootstrap.py`` does: each item contributes a
vector of ``d`` additive statistics, and the metric is a function of their sum. An item mean is
the special case ``d = 2`` with the vector ``(score, 1)`` and the statistic ``sum / count``:
written as a ratio rather than ``sum / n``, it stays right when a clustered resample draws a
different number of items.

A resample is a vector of counts over *units* (items, or clusters of items); its totals are
``counts @ unit_table``. Identical unit vectors are pooled (0/1 scores of two systems fall into
four cells), which turns B × n index draws into B multinomial draws over a handful of cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from palmares.stats.bootstrap import Sufficient

#: A corpus statistic: summed vectors ``(B, d)`` → one value per row ``(B,)``.
Statistic = Callable[[NDArray[np.float64]], NDArray[np.float64]]
#: Item-level scores ``(n,)``, a per-item table ``(n, d)``, or pooled sufficient statistics.
Sample = NDArray[Any] | Sufficient

_MAX_CELLS_PER_CHUNK = 20_000_000  # bounds the (replicates × units) count matrix in memory


def ratio_of_sums(totals: NDArray[np.float64]) -> NDArray[np.float64]:
    """The item mean from summed ``(score, 1)`` vectors."""
    out: NDArray[np.float64] = totals[:, 0] / totals[:, 1]
    return out


def as_tables(
    samples: Sequence[Sample], statistic: Statistic | None
) -> tuple[list[NDArray[np.float64]], Statistic]:
    """Per-item tables ``(n, d)`` of aligned samples, and the statistic to apply to their sums.

    Without a statistic, each sample must be item scores and the metric is their mean.
    """
    tables: list[NDArray[np.float64]] = []
    for sample in samples:
        if isinstance(sample, Sufficient):
            table = sample.table[sample.codes]
        else:
            table = np.asarray(sample, dtype=np.float64)
        if statistic is None:
            if table.ndim != 1:
                raise ValueError("give a statistic for a table of sufficient statistics")
            table = np.column_stack([table, np.ones_like(table)])
        elif table.ndim == 1:
            table = table[:, None]
        tables.append(table)
    if len({t.shape[0] for t in tables}) > 1:
        raise ValueError("paired samples must have the same items, in the same order")
    return tables, ratio_of_sums if statistic is None else statistic


def evaluate(statistic: Statistic, totals: NDArray[np.float64]) -> NDArray[np.float64]:
    """``statistic`` on rows of ``totals``, always as a 1-D float array."""
    return np.asarray(statistic(totals), dtype=np.float64).reshape(totals.shape[0])


@dataclass(frozen=True)
class Units:
    """Resampling units, pooled: distinct unit vectors ``rows`` (``m × d``), each shared by
    ``counts[j]`` units; ``codes`` maps each unit to its row (for exact enumeration)."""

    rows: NDArray[np.float64]
    counts: NDArray[np.int64]
    codes: NDArray[np.int64]

    @property
    def n(self) -> int:
        return int(self.codes.size)

    def total(self) -> NDArray[np.float64]:
        """Sum over all units, shape ``(d,)``."""
        out: NDArray[np.float64] = self.counts.astype(np.float64) @ self.rows
        return out


def make_units(table: NDArray[np.float64], clusters: NDArray[Any] | None = None) -> Units:
    """Units of ``table``: its items, or with ``clusters`` the per-cluster sums of its items."""
    if clusters is not None:
        _, idx = np.unique(np.asarray(clusters), return_inverse=True)
        summed = np.zeros((int(idx.max()) + 1, table.shape[1]))
        np.add.at(summed, idx, table)
        table = summed
    rows, codes, counts = np.unique(table, axis=0, return_inverse=True, return_counts=True)
    return Units(rows, counts.astype(np.int64), codes.reshape(-1).astype(np.int64))


def draw_counts(units: Units, size: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Bootstrap resampling counts over ``units.rows``: ``(size, m)``.

    Drawing n units with replacement is a multinomial draw over the pooled rows. numpy's
    multinomial costs one binomial per row, so when pooling saved little (n-gram vectors rarely
    repeat) it is cheaper to draw indices and count them row by row.
    """
    m, n = units.rows.shape[0], units.n
    if 16 * m <= n:
        return rng.multinomial(n, units.counts / n, size=size).astype(np.float64)
    idx = units.codes[rng.integers(0, n, size=(size, n))]
    out = np.empty((size, m))
    for r in range(size):  # a per-row bincount stays in cache; one flat bincount does not
        out[r] = np.bincount(idx[r], minlength=m)
    return out


def chunks(replicates: int, m: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` blocks of replicates whose count matrix fits the memory bound."""
    step = max(1, min(replicates, _MAX_CELLS_PER_CHUNK // max(m, 1)))
    for start in range(0, replicates, step):
        yield start, min(replicates, start + step)


def resampled_totals(
    units: Units, replicates: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Totals of ``replicates`` bootstrap resamples of ``units``: ``(replicates, d)``."""
    out = np.empty((replicates, units.rows.shape[1]))
    for start, stop in chunks(replicates, units.rows.shape[0]):
        out[start:stop] = draw_counts(units, stop - start, rng) @ units.rows
    return out


def jackknife_totals(units: Units) -> NDArray[np.float64]:
    """Totals with one unit of each distinct row left out: ``(m, d)`` (weights: ``counts``)."""
    out: NDArray[np.float64] = units.total()[None, :] - units.rows
    return out
