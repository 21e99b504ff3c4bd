"""Analytic confidence intervals for the mean of item-level scores."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import stats as _st

Interval = tuple[float, float]


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for a proportion: good coverage even near 0 and 1, unlike Wald's."""
    if n < 1:
        return None
    z = float(_st.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def t_interval(values: NDArray[np.float64], confidence: float = 0.95) -> Interval | None:
    """Student-t interval for the mean of independent item scores."""
    n = values.size
    if n < 2:
        return None
    mean = float(values.mean())
    se = float(values.std(ddof=1)) / math.sqrt(n)
    half = float(_st.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return (mean - half, mean + half)


def cluster_t_interval(
    values: NDArray[np.float64], clusters: NDArray[np.int64], confidence: float = 0.95
) -> Interval | None:
    """Interval for the mean when items come in clusters (several questions on one passage).

    Cluster-robust (CR1) standard error of the mean, with a t quantile on C - 1 degrees of
    freedom: items within a cluster are not counted as independent evidence.
    """
    n = values.size
    n_clusters = int(np.unique(clusters).size)
    if n < 2 or n_clusters < 2:
        return None
    mean = float(values.mean())
    resid_sums = np.bincount(clusters, weights=values - mean)
    var = n_clusters / (n_clusters - 1) * float(np.sum(resid_sums**2)) / (n * n)
    half = float(_st.t.ppf(0.5 + confidence / 2, n_clusters - 1)) * math.sqrt(var)
    return (mean - half, mean + half)


def mean_interval(
    values: NDArray[np.float64],
    clusters: NDArray[np.int64] | None = None,
    confidence: float = 0.95,
) -> tuple[Interval | None, str]:
    """The right analytic interval for a mean of item scores, and the name of its method.

    0/1 scores without clusters get Wilson's interval; other scores get Student's t; clustered
    items get the cluster-robust t interval.
    """
    if clusters is not None:
        return cluster_t_interval(values, clusters, confidence), "cluster-t"
    if values.size and bool(np.all((values == 0) | (values == 1))):
        return wilson_interval(float(values.sum()), int(values.size), confidence), "wilson"
    return t_interval(values, confidence), "t"
