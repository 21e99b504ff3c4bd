"""Power analysis for organisers: how many items a task needs to tell systems apart.

A paired comparison of two systems on n items estimates the mean difference ``δ`` with
standard error ``σ_d / √n``, where ``σ_d`` is the standard deviation of the *item-level paired
differences* — taken from pilot runs (two baseline systems on a pilot set). With the normal
approximation, a two-sided test at level α detects a true difference ``δ`` with probability
``power`` when

    δ = (z_{1−α/2} + z_{power}) · σ_d / √n

(e.g. Chow, Shao & Wang, *Sample Size Calculations in Clinical Research*, §3.1; the paired
test is a one-sample test on the differences). Solved for δ: the minimum detectable difference;
solved for n: the items needed. For accuracy, ``σ_d² ≈ p_disc − δ²`` where ``p_disc`` is the
rate of discordant items (one system right, the other wrong): systems that agree often are
cheap to compare.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm


def paired_sd(pilot_a: NDArray[Any], pilot_b: NDArray[Any]) -> float:
    """Standard deviation (n − 1) of the item-level differences of two pilot runs."""
    d = np.asarray(pilot_a, dtype=np.float64) - np.asarray(pilot_b, dtype=np.float64)
    if d.size < 2:
        raise ValueError("a pilot needs at least two items")
    return float(d.std(ddof=1))


def _z_sum(alpha: float, power: float, two_sided: bool) -> float:
    z_alpha = norm.ppf(1 - alpha / 2) if two_sided else norm.ppf(1 - alpha)
    return float(z_alpha + norm.ppf(power))


def minimum_detectable_difference(
    sd: float, n_items: int, *, alpha: float = 0.05, power: float = 0.8, two_sided: bool = True
) -> float:
    """Smallest true mean difference detected with probability ``power`` on ``n_items``."""
    return _z_sum(alpha, power, two_sided) * sd / math.sqrt(n_items)


def items_needed(
    sd: float, difference: float, *, alpha: float = 0.05, power: float = 0.8, two_sided: bool = True
) -> int:
    """Items needed to detect a true mean difference ``difference`` with probability ``power``
    (rounded up)."""
    if difference == 0:
        raise ValueError("a zero difference cannot be detected")
    return math.ceil((_z_sum(alpha, power, two_sided) * sd / abs(difference)) ** 2)


def power_of(
    sd: float, n_items: int, difference: float, *, alpha: float = 0.05, two_sided: bool = True
) -> float:
    """Probability of detecting ``difference`` on ``n_items`` (normal approximation, both tails
    counted when two-sided)."""
    shift = abs(difference) * math.sqrt(n_items) / sd
    if not two_sided:
        return float(norm.sf(norm.ppf(1 - alpha) - shift))
    z = norm.ppf(1 - alpha / 2)
    return float(norm.sf(z - shift) + norm.cdf(-z - shift))
