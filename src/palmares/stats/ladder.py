"""The Ladder: a public leaderboard that resists adaptive overfitting to its holdout items.

Reference: A. Blum & M. Hardt, "The Ladder: A Reliable Leaderboard for Machine Learning
Competitions", ICML 2015 (Algorithms 1 and 2; reference code github.com/mrtzh/Ladder.jl).

A team's public score changes only when a new submission beats the team's best *significantly*
on the public items, and the released score is rounded, so that repeated submissions leak
little about individual public items. The parameter-free variant (Algorithm 2) uses a one-sided
paired test: with ``d`` the per-item improvement of the new submission over the best one,

    update  ⇔  mean(d) > s / √n,   s = std(d) (sample, n − 1),

i.e. the improvement exceeds one standard error of the paired difference (compared, as in the
paper's reference code, with the best submission's exact score); the released score is then
rounded to a multiple of that standard error, and never moves down on an update. Algebra turns
the test into ``Σd > 0 and (Σd)² > Σd²``, which is exact for 0/1 scores (sums of integers):
changing a single item's answer, whatever it does to the score, never moves the board.

The fixed-step variant (Algorithm 1, ``step=η``) updates when the score beats the *released*
score by more than η and releases it rounded to a multiple of η.

Pure functions on item-score vectors: the caller keeps the state (the best submission's public
item scores and the released score), or uses :class:`Ladder`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class LadderDecision:
    """``updated``: the submission becomes the team's best; ``released``: the public score to
    show now; ``score``: the submission's exact public score (never shown); ``precision``: the
    rounding step used (the paired standard error, or η)."""

    updated: bool
    released: float
    score: float
    precision: float


def round_to(value: float, precision: float) -> float:
    """``value`` rounded to the nearest multiple of ``precision`` (unchanged when it is 0)."""
    if precision <= 0 or not math.isfinite(precision):
        return value
    return round(value / precision) * precision


def ladder_step(
    new: NDArray[Any],
    best: NDArray[Any] | None = None,
    released: float | None = None,
    *,
    higher_is_better: bool = True,
    step: float | None = None,
) -> LadderDecision:
    """Decide on one submission. ``new``, ``best``: public item scores of the new submission
    and of the team's best so far (``None`` for a team's first submission); ``released``: the
    team's current public score (needed once ``best`` is given)."""
    x = np.asarray(new, dtype=np.float64)
    n = x.size
    score = float(x.mean())
    sign = 1.0 if higher_is_better else -1.0
    if step is not None:  # Algorithm 1: compare with the released score, round to η
        if released is None or sign * (score - released) > step:
            return LadderDecision(True, round_to(score, step), score, step)
        return LadderDecision(False, released, score, step)
    if best is None:
        # first submission: the paper's best loss vector is 0, so s is the scores' own std
        se = float(x.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
        return LadderDecision(True, round_to(score, se), score, se)
    if released is None:
        raise ValueError("give the released score together with the best submission")
    d = sign * (x - np.asarray(best, dtype=np.float64))
    total, squares = float(d.sum()), float(np.dot(d, d))
    se = float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    # mean(d) > std(d, ddof=1)/√n  ⇔  Σd > 0 and (Σd)² > Σd²  (multiply out; no rounding error
    # for integer-valued scores)
    if total > 0 and total * total > squares:
        # The grid changes with the standard error (the first score sits on a coarse one), so
        # rounding alone could show a lower number after a significant improvement: keep the
        # public score monotone instead.
        shown = round_to(score, se)
        shown = max(shown, released) if higher_is_better else min(shown, released)
        return LadderDecision(True, shown, score, se)
    return LadderDecision(False, released, score, se)


class Ladder:
    """One team's Ladder state: submit public item scores, get the score to release."""

    def __init__(self, *, higher_is_better: bool = True, step: float | None = None) -> None:
        self.higher_is_better = higher_is_better
        self.step = step
        self.best: NDArray[np.float64] | None = None
        self.released: float | None = None

    def submit(self, scores: NDArray[Any]) -> LadderDecision:
        decision = ladder_step(
            scores,
            self.best,
            self.released,
            higher_is_better=self.higher_is_better,
            step=self.step,
        )
        if decision.updated:
            self.best = np.asarray(scores, dtype=np.float64)
        self.released = decision.released
        return decision
