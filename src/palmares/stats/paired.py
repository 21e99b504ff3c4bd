"""Paired comparison of two runs on the same items: bootstrap, permutation, McNemar.

Pairing matters: two systems answer the same questions, so most of the item-to-item variance
is shared and cancels in the difference. Every test here resamples or permutes *items* (or
clusters), keeping each item's two results together.

* :func:`paired_bootstrap` — the difference ``θ(A) − θ(B)`` with a percentile or BCa interval and
  the p-value of the interval's inversion (Efron & Tibshirani 1993, §16): ``p < α`` exactly when
  the ``1 − α`` percentile interval excludes 0.
* :func:`paired_permutation` — under the null that A and B are exchangeable on each item, swap
  them item by item. For an item mean this is the sign-flip test of the differences; for a
  corpus statistic the swapped totals are ``T_A + S @ (X_B − X_A)``, one matrix product for all
  permutations (approximate randomisation, Noreen 1989; Riezler & Maxwell 2005). Exact
  enumeration when ``2^units`` is within the number of permutations asked.
* :func:`mcnemar` — two accuracies: exact binomial test on the discordant pairs when they are few,
  chi-square with continuity correction otherwise (McNemar 1947; Edwards 1948).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as _st

from palmares.stats._resample import (
    Sample,
    Statistic,
    Units,
    as_tables,
    chunks,
    evaluate,
    jackknife_totals,
    make_units,
    resampled_totals,
)
from palmares.stats.bca import Method, bca_interval

MCNEMAR_EXACT_BELOW = 25  # discordant pairs; the usual threshold for the chi-square approximation


@dataclass(frozen=True)
class PairedTest:
    """Result of a paired comparison: ``difference = θ(A) − θ(B)``, its interval, a two-sided
    p-value, and the method (with the number of resamples or the test statistic's name)."""

    difference: float
    low: float
    high: float
    p_value: float
    method: str


def _paired_units(
    a: Sample, b: Sample, statistic: Statistic | None, clusters: NDArray[Any] | None
) -> tuple[Units, Statistic, int]:
    (ta, tb), stat = as_tables([a, b], statistic)
    return make_units(np.hstack([ta, tb]), clusters), stat, ta.shape[1]


def _difference(stat: Statistic, totals: NDArray[np.float64], d: int) -> NDArray[np.float64]:
    return evaluate(stat, totals[:, :d]) - evaluate(stat, totals[:, d:])


def paired_bootstrap(
    a: Sample,
    b: Sample,
    statistic: Statistic | None = None,
    *,
    replicates: int = 10_000,
    confidence: float = 0.95,
    interval: Method = "percentile",
    clusters: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> PairedTest:
    """Paired bootstrap of ``θ(A) − θ(B)``: one resampling of items applied to both runs."""
    rng = np.random.default_rng() if rng is None else rng
    units, stat, d = _paired_units(a, b, statistic, clusters)
    diff = _difference(stat, units.total()[None, :], d)
    reps = _difference(stat, resampled_totals(units, replicates, rng), d)
    if interval == "bca":
        jack = _difference(stat, jackknife_totals(units), d)
        low, high = bca_interval(reps[:, None], diff, jack[:, None], units.counts, confidence)[0]
    else:
        alpha = (1 - confidence) / 2
        low, high = np.quantile(reps, [alpha, 1 - alpha])
    # inversion of the percentile interval; +1 keeps a p-value from being exactly 0
    tail = min(np.sum(reps <= 0), np.sum(reps >= 0))
    p = min(1.0, 2 * float(tail + 1) / (replicates + 1))
    return PairedTest(float(diff[0]), float(low), float(high), p, f"paired bootstrap ({interval})")


def _swap_masks(counts: NDArray[np.int64], size: int, rng: np.random.Generator) -> NDArray[Any]:
    """How many units of each distinct row are swapped, for ``size`` random permutations.

    Each unit is swapped with probability ½: a binomial count per pooled row, and plain random
    bits (8 per random byte) for rows that stand for a single unit, the common case.
    """
    out = np.empty((size, counts.size))
    single = counts == 1
    n_single = int(single.sum())
    if n_single:
        raw = np.frombuffer(rng.bytes(size * ((n_single + 7) // 8)), dtype=np.uint8)
        out[:, single] = np.unpackbits(raw.reshape(size, -1), axis=1, count=n_single)
    if n_single < counts.size:
        out[:, ~single] = rng.binomial(counts[~single], 0.5, size=(size, counts.size - n_single))
    return out


def paired_permutation(
    a: Sample,
    b: Sample,
    statistic: Statistic | None = None,
    *,
    permutations: int = 10_000,
    clusters: NDArray[Any] | None = None,
    rng: np.random.Generator | None = None,
) -> PairedTest:
    """Two-sided paired permutation test of ``θ(A) = θ(B)`` (swap A and B on random items).

    A permutation test gives no interval for the difference: ``low`` and ``high`` are NaN (take
    the interval from :func:`paired_bootstrap`). The p-value is ``(extreme + 1) / (R + 1)``
    (Phipson & Smyth 2010) for R random permutations, the exact proportion when enumerated.
    """
    rng = np.random.default_rng() if rng is None else rng
    units, stat, d = _paired_units(a, b, statistic, clusters)
    # Only units whose two halves differ can change anything when swapped.
    delta_rows = units.rows[:, d:] - units.rows[:, :d]
    keep = np.any(delta_rows != 0, axis=1)
    total = units.total()
    observed = float(_difference(stat, total[None, :], d)[0])
    counts, delta_rows = units.counts[keep], delta_rows[keep]
    n_swappable = int(counts.sum())
    exact = n_swappable <= 20 and 2**n_swappable <= permutations

    def null_differences(mask: NDArray[Any]) -> NDArray[np.float64]:
        shift = mask @ delta_rows  # A takes B's vectors on the swapped units, and vice versa
        return _difference(stat, np.hstack([total[:d] + shift, total[d:] - shift]), d)

    if exact:
        # every subset of the swappable units (0/1 columns), summed into their pooled rows
        bits = (np.arange(2**n_swappable)[:, None] >> np.arange(n_swappable)) & 1
        masks = np.zeros((bits.shape[0], counts.size))
        np.add.at(masks.T, np.repeat(np.arange(counts.size), counts), bits.T.astype(np.float64))
        null = [null_differences(masks)]
    else:
        null = [
            null_differences(_swap_masks(counts, stop - start, rng))
            for start, stop in chunks(permutations, max(1, counts.size))
        ]
    dist = np.concatenate(null)
    # tolerance: the identity permutation must count as "as extreme" despite rounding
    tol = 1e-9 * max(1.0, abs(observed))
    extreme = int(np.sum(np.abs(dist) >= abs(observed) - tol))
    if exact:
        p, method = extreme / dist.size, "paired permutation (exact)"
    else:
        p, method = (extreme + 1) / (dist.size + 1), "paired permutation"
    return PairedTest(observed, math.nan, math.nan, min(1.0, p), method)


def mcnemar(
    correct_a: NDArray[Any],
    correct_b: NDArray[Any],
    *,
    exact: bool | None = None,
    confidence: float = 0.95,
) -> PairedTest:
    """McNemar's test of two accuracies on the same items (0/1 correctness vectors).

    Only discordant items (one right, the other wrong) carry information: ``n10`` where A alone
    is right, ``n01`` where B alone is. Under the null each discordant item goes either way with
    probability ½. ``exact`` (default: fewer than 25 discordant pairs) uses the binomial test;
    otherwise ``(|n10 − n01| − 1)² / (n10 + n01)`` against chi-square with one degree of
    freedom. The interval is the Wald interval of the paired difference of proportions,
    ``(n10 − n01)/n ± z · sqrt(n10 + n01 − (n10 − n01)²/n) / n``.
    """
    ca = np.asarray(correct_a, dtype=bool)
    cb = np.asarray(correct_b, dtype=bool)
    n = int(ca.size)
    n10, n01 = int(np.sum(ca & ~cb)), int(np.sum(~ca & cb))
    disc = n10 + n01
    diff = (n10 - n01) / n
    z = float(_st.norm.ppf(0.5 + confidence / 2))
    half = z * math.sqrt(max(disc - (n10 - n01) ** 2 / n, 0.0)) / n
    exact = disc < MCNEMAR_EXACT_BELOW if exact is None else exact
    if disc == 0:
        p, method = 1.0, "McNemar (no discordant pairs)"
    elif exact:
        p, method = float(_st.binomtest(n10, disc, 0.5).pvalue), "McNemar exact binomial"
    else:
        chi2 = (abs(n10 - n01) - 1) ** 2 / disc
        p, method = float(_st.chi2.sf(chi2, 1)), "McNemar chi-square (continuity corrected)"
    return PairedTest(diff, diff - half, diff + half, p, method)
