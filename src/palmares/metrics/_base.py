"""The two shapes of metric: the mean of item scores, and a corpus statistic."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from palmares.core import InputError, ValueKind
from palmares.metrics._data import (
    ChoiceData,
    LabelData,
    NumberData,
    PairData,
    RankingData,
    TextData,
)
from palmares.stats import Sufficient

D = TypeVar("D", LabelData, TextData, NumberData, RankingData, ChoiceData, PairData)


class Metric(ABC, Generic[D]):
    """A metric: what it compares (``kind``), which way is better, and how it aggregates.

    ``higher_is_better`` gives the better direction; a metric whose best value is a point
    (0.5 for a preference rate, 0 for a bias score) declares it as ``target``: a leaderboard
    then ranks by distance to it (``campaigns.verdicts``), smaller is better.

    Subclasses set the class attributes and implement the aggregation of their base class.
    Options (``k`` for ranking metrics) come from the task YAML and are checked in ``__init__``;
    a subclass lists the ones it takes in ``option_names``.
    """

    name: ClassVar[str]
    kind: ClassVar[ValueKind]
    aggregation: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    target: ClassVar[float | None] = None
    needs_probabilities: ClassVar[bool] = False
    option_names: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.option_names))
        if unknown:
            raise InputError(f"metric {self.name!r} takes no option {unknown[0]!r}")
        self.options = options

    @property
    def label(self) -> str:
        if set(self.options) == {"k"}:
            return f"{self.name}@{self.options['k']}"
        return self.name

    def outputs(self, data: D) -> list[str]:
        """Names of the scores this metric produces (several for per-class metrics)."""
        return [self.label]

    def item_scores(self, data: D) -> NDArray[np.float64] | None:
        """One score per item, written to ``items.jsonl``; None where none is meaningful."""
        return None


class MeanMetric(Metric[D]):
    """The mean of an item-level score (accuracy, exact match, token F1, MAE…)."""

    aggregation: ClassVar[str] = "mean"

    @abstractmethod
    def item_scores(self, data: D) -> NDArray[np.float64]: ...


class CorpusMetric(Metric[D]):
    """A statistic of the whole corpus (F1, MCC, BLEU, chrF, RMSE…), computed from additive
    sufficient statistics so that the bootstrap can resample it quickly (see ``stats.bootstrap``).
    """

    aggregation: ClassVar[str] = "corpus"

    def statistics_key(self) -> tuple[object, ...]:
        """Metrics with equal keys have the same sufficient statistics on the same data, so the
        engine computes them once (F1, precision, recall and MCC all count confusion cells)."""
        return (type(self), repr(sorted(self.options.items())))

    @abstractmethod
    def sufficient(self, data: D) -> Sufficient:
        """Per-item sufficient statistics (pooled where items share the same vector)."""

    @abstractmethod
    def from_totals(self, totals: NDArray[np.float64], data: D) -> NDArray[np.float64]:
        """Metric value(s) from summed statistics: ``(B, d)`` → ``(B, len(outputs))``."""
