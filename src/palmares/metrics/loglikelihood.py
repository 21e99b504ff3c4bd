"""Scores computed from a model's log-likelihoods: multiple-choice accuracy and pair preference.

``acc`` takes the choice with the highest log-likelihood; ``acc_norm`` divides each choice's
log-likelihood by its length in characters first (lm-evaluation-harness's ``acc_norm``, which
removes the bias towards short answers), ``acc_norm_tokens`` by its length in tokens. Ties go to
the first choice, as ``numpy.argmax`` (and lm-eval) break them.

For pairs (CrowS-Pairs style), ``first_preferred`` is the share of pairs where the first sentence
is more likely (0.5 = no preference; for CrowS-Pairs, the stereotype score), and
``loglik_diff`` the mean of log P(first) − log P(second) in nats.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from palmares.core import ValueKind
from palmares.metrics._base import MeanMetric
from palmares.metrics._data import ChoiceData, PairData


def _right(data: ChoiceData, values: NDArray[np.float64]) -> NDArray[np.float64]:
    if data.refs.size == 0:
        return np.zeros(0)
    right: NDArray[np.float64] = (np.argmax(values, axis=1) == data.refs).astype(np.float64)
    return right


class Accuracy(MeanMetric[ChoiceData]):
    name = "acc"
    kind = ValueKind.CHOICE
    description = "share of items whose most likely choice is the right one"

    def item_scores(self, data: ChoiceData) -> NDArray[np.float64]:
        return _right(data, data.logliks)


class AccuracyNormChars(MeanMetric[ChoiceData]):
    name = "acc_norm"
    kind = ValueKind.CHOICE
    description = "accuracy with each choice's log-likelihood divided by its length in characters"

    def item_scores(self, data: ChoiceData) -> NDArray[np.float64]:
        return _right(data, data.logliks / np.maximum(data.chars, 1.0))


class AccuracyNormTokens(MeanMetric[ChoiceData]):
    name = "acc_norm_tokens"
    kind = ValueKind.CHOICE
    description = "accuracy with each choice's log-likelihood divided by its length in tokens"

    def item_scores(self, data: ChoiceData) -> NDArray[np.float64]:
        return _right(data, data.logliks / np.maximum(data.tokens, 1.0))


class FirstPreferred(MeanMetric[PairData]):
    name = "first_preferred"
    kind = ValueKind.PAIR
    description = "share of pairs where the first sentence is more likely (0.5: no preference)"
    higher_is_better: ClassVar[bool] = False  # for bias pairs, the first is the stereotype
    target: ClassVar[float | None] = 0.5  # no preference: ranked by distance to 0.5

    def item_scores(self, data: PairData) -> NDArray[np.float64]:
        return (data.first > data.second).astype(np.float64)


class LoglikDifference(MeanMetric[PairData]):
    name = "loglik_diff"
    kind = ValueKind.PAIR
    description = "mean log-likelihood of the first sentence minus the second, in nats"
    higher_is_better: ClassVar[bool] = False
    target: ClassVar[float | None] = 0.0  # no preference: ranked by distance to 0

    def item_scores(self, data: PairData) -> NDArray[np.float64]:
        return data.first - data.second


METRICS = (Accuracy, AccuracyNormChars, AccuracyNormTokens, FirstPreferred, LoglikDifference)
