"""Calibration of predicted probabilities: Brier score and expected calibration error (ECE).

Both read ``LabelData.probabilities`` (one row per item, one column per label, in the order of
``labels``), not the predicted labels.

**Brier score** — the multiclass definition of Brier (1950): per item, the sum over the K labels of
``(p_k − 1[y = k])²``; the metric is its mean, in [0, 2], lower is better. With two labels whose
probabilities sum to 1, it is twice the binary score most libraries report, scikit-learn's
``brier_score_loss(y, p_positive)`` = mean of ``(p_positive − y)²`` (in [0, 1]), because both
classes contribute the same squared error. It equals ``brier_score_loss(y, P, labels=…,
scale_by_half=False)`` for any number of labels.

**ECE** — the expected calibration error of Guo et al. (2017): the confidence of an item is its
largest probability, it is correct when that label (the first one in ``labels`` order on a tie)
is the reference; items are put in 15 equal-width bins of confidence, ``(0, 1/15], …, (14/15, 1]``
(confidence 0 goes to the first), and ECE = Σ_b (n_b / n) · |accuracy_b − confidence_b|, where
accuracy_b and confidence_b are the bin's mean correctness and mean confidence.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from palmares.core import InputError, ValueKind
from palmares.metrics._base import CorpusMetric, MeanMetric
from palmares.metrics._data import LabelData
from palmares.stats import Sufficient

ECE_BINS = 15


def _probabilities(data: LabelData, metric: str) -> NDArray[np.float64]:
    if data.probabilities is None:
        raise InputError(f"metric {metric!r} needs the predicted probabilities of each label")
    proba = np.asarray(data.probabilities, dtype=np.float64)
    if proba.shape != (len(data), len(data.labels)):
        raise InputError(
            f"metric {metric!r}: probabilities have shape {proba.shape}, expected "
            f"{(len(data), len(data.labels))} (items × labels)"
        )
    return proba


class Brier(MeanMetric[LabelData]):
    name = "brier"
    kind = ValueKind.LABEL
    higher_is_better = False
    needs_probabilities = True
    description = (
        "multiclass Brier score: mean over items of Σ_k (p_k − 1[y = k])², in [0, 2] "
        "(twice the binary brier_score_loss of scikit-learn for two labels)"
    )

    def item_scores(self, data: LabelData) -> NDArray[np.float64]:
        proba = _probabilities(data, self.name)
        onehot = np.zeros_like(proba)
        onehot[np.arange(len(data)), data.refs] = 1.0
        scores: NDArray[np.float64] = np.square(proba - onehot).sum(axis=1)
        return scores


class ECE(CorpusMetric[LabelData]):
    """Statistics, per item, one-hot in its bin ``b`` (``d = 3 × 15``): columns ``b`` (count),
    ``15 + b`` (confidence) and ``30 + b`` (correct, 0 or 1)."""

    name = "ece"
    kind = ValueKind.LABEL
    higher_is_better = False
    needs_probabilities = True
    description = f"expected calibration error of the top-label confidence ({ECE_BINS} equal bins)"

    def sufficient(self, data: LabelData) -> Sufficient:
        proba = _probabilities(data, self.name)
        n = len(data)
        if proba.shape[1] == 0:
            return Sufficient.per_item(np.zeros((n, 3 * ECE_BINS)))
        confidence = proba.max(axis=1)
        correct = (proba.argmax(axis=1) == data.refs).astype(np.float64)
        # Bins (lo, hi]: the index is the number of inner edges strictly below the confidence.
        inner_edges = np.linspace(0.0, 1.0, ECE_BINS + 1)[1:-1]
        bins = np.searchsorted(inner_edges, confidence, side="left")
        table = np.zeros((n, 3 * ECE_BINS))
        rows = np.arange(n)
        table[rows, bins] = 1.0
        table[rows, ECE_BINS + bins] = confidence
        table[rows, 2 * ECE_BINS + bins] = correct
        return Sufficient.per_item(table)

    def from_totals(self, totals: NDArray[np.float64], data: LabelData) -> NDArray[np.float64]:
        count, confidence, correct = np.split(totals, 3, axis=1)
        n = count.sum(axis=1)
        # (n_b / n) · |correct_b / n_b − confidence_b / n_b| = |correct_b − confidence_b| / n
        gap = np.abs(correct - confidence).sum(axis=1)
        ece: NDArray[np.float64] = np.divide(gap, n, out=np.zeros_like(gap), where=n > 0)
        return ece[:, None]


METRICS: list[type] = [Brier, ECE]
