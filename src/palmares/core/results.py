"""Scores: a value with its confidence interval and the number of items behind it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Score:
    """One metric's value on a set of items, with its confidence interval.

    ``ci`` is ``None`` only where no interval can be computed (fewer than two items or clusters);
    it is never silently dropped. ``method`` names how it was computed (``wilson``, ``t``,
    ``cluster-t``, ``bootstrap-percentile``), so a reader can judge it.
    """

    value: float
    ci: tuple[float, float] | None
    n: int
    method: str
    confidence: float = 0.95

    def to_json(self) -> dict[str, Any]:
        return {
            "value": _finite_or_none(self.value),
            "ci": None if self.ci is None else [_finite_or_none(c) for c in self.ci],
            "n": self.n,
            "ci_method": self.method,
        }


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass
class ScoreTable:
    """Scores of a run: overall, and per value of each slice field."""

    scores: dict[str, Score] = field(default_factory=dict)
    slices: dict[str, dict[str, dict[str, Score]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scores": {name: s.to_json() for name, s in self.scores.items()},
            "slices": {
                fld: {
                    value: {name: s.to_json() for name, s in scores.items()}
                    for value, scores in by_value.items()
                }
                for fld, by_value in self.slices.items()
            },
        }
