"""Power analysis: hand-worked numbers, and a simulation at the computed sample size."""

from __future__ import annotations

import math

import numpy as np
import pytest

from palmares.stats import items_needed, minimum_detectable_difference, paired_sd, power_of


def test_hand_worked() -> None:
    # z_{0.975} + z_{0.8} = 1.959964 + 0.841621 = 2.801585
    # MDD(σ = 0.5, n = 400) = 2.801585 · 0.5 / 20 = 0.0700396
    assert minimum_detectable_difference(0.5, 400) == pytest.approx(0.0700396, abs=1e-7)
    # n(σ = 0.5, δ = 0.05) = (2.801585 · 0.5 / 0.05)² = 784.89 → 785
    assert items_needed(0.5, 0.05) == 785
    # one-sided: (1.644854 + 0.841621)² · 100 = 618.26 → 619
    assert items_needed(0.5, 0.05, two_sided=False) == 619
    # α = 0.01, power 0.9: (2.575829 + 1.281552)² · 100 = 1487.94 → 1488
    assert items_needed(0.5, -0.05, alpha=0.01, power=0.9) == 1488
    assert power_of(0.5, 785, 0.05) == pytest.approx(0.8, abs=2e-3)
    assert power_of(0.5, 400, minimum_detectable_difference(0.5, 400)) == pytest.approx(
        0.8,
        abs=1e-3,  # the far tail adds ~1e-6
    )
    with pytest.raises(ValueError):
        items_needed(0.5, 0.0)


def test_pilot_paired_sd() -> None:
    # 0/1 pilot: 30 of 100 items discordant, 17 for A and 13 for B: d ∈ {1, −1, 0}
    a = np.r_[np.ones(17), np.zeros(13), np.ones(40), np.zeros(30)]
    b = np.r_[np.zeros(17), np.ones(13), np.ones(40), np.zeros(30)]
    mean = 0.04
    expected = math.sqrt((30 - 100 * mean**2) / 99)  # Σ(d − d̄)² = Σd² − n d̄²
    assert paired_sd(a, b) == pytest.approx(expected)
    with pytest.raises(ValueError):
        paired_sd(np.ones(1), np.zeros(1))


def test_power_by_simulation() -> None:
    """Two systems whose accuracies differ by 0.04, discordant on 30 % of items: at the
    computed number of items, a paired z-test at α = 0.05 rejects in 80 % ± 3σ of 4,000
    simulated test sets; at the minimum detectable difference of n = 1000, too."""
    rng = np.random.default_rng(0)
    sd = math.sqrt(0.3 - 0.04**2)
    n = items_needed(sd, 0.04)
    assert n == 1464

    def rejection_rate(n_items: int, delta: float, sims: int = 4000) -> float:
        # counts of (A alone right, B alone right, agree) per simulated test set
        probs = [(0.3 + delta) / 2, (0.3 - delta) / 2, 0.7]
        counts = rng.multinomial(n_items, probs, size=sims)
        d_mean = (counts[:, 0] - counts[:, 1]) / n_items
        var = ((counts[:, 0] + counts[:, 1]) / n_items - d_mean**2) * n_items / (n_items - 1)
        z = d_mean / np.sqrt(var / n_items)
        return float(np.mean(np.abs(z) > 1.959964))

    tol = 3 * math.sqrt(0.8 * 0.2 / 4000)
    assert rejection_rate(n, 0.04) == pytest.approx(0.8, abs=tol)
    mdd = minimum_detectable_difference(sd, 1000)
    assert rejection_rate(1000, mdd) == pytest.approx(0.8, abs=tol)
    # and the test keeps its level at δ = 0
    assert rejection_rate(1000, 0.0) == pytest.approx(0.05, abs=3 * math.sqrt(0.05 * 0.95 / 4000))
