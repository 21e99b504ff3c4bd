"""Classification: accuracy, precision / recall / F1 (macro, micro, weighted, per class), MCC.

Definitions follow scikit-learn (labels = union of reference and predicted labels; a ratio whose
denominator is 0 counts as 0), and the tests check them against it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from palmares.core import ValueKind
from palmares.metrics._base import CorpusMetric, MeanMetric
from palmares.metrics._data import LabelData
from palmares.stats import Sufficient


class Accuracy(MeanMetric[LabelData]):
    name = "accuracy"
    kind = ValueKind.LABEL
    description = "share of items whose predicted label equals the reference"

    def item_scores(self, data: LabelData) -> NDArray[np.float64]:
        scores: NDArray[np.float64] = (data.refs == data.preds).astype(np.float64)
        return scores


class _Confusion(CorpusMetric[LabelData]):
    """Statistics are the K×K confusion-matrix cells: each item is one cell (ref, pred)."""

    kind = ValueKind.LABEL

    def statistics_key(self) -> tuple[object, ...]:
        return (_Confusion,)

    def sufficient(self, data: LabelData) -> Sufficient:
        k = len(data.labels)
        return Sufficient(data.refs * k + data.preds, np.eye(k * k))

    def from_totals(self, totals: NDArray[np.float64], data: LabelData) -> NDArray[np.float64]:
        k = len(data.labels)
        return self._from_confusion(totals.reshape(-1, k, k))

    def _from_confusion(self, cm: NDArray[np.float64]) -> NDArray[np.float64]:
        raise NotImplementedError


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return out


class _PRF(_Confusion):
    """Precision, recall or F1 under one averaging rule."""

    score: ClassVar[str]  # precision | recall | f1
    average: ClassVar[str]  # macro | micro | weighted | per_class

    def outputs(self, data: LabelData) -> list[str]:
        if self.average == "per_class":
            return [f"{self.score}[{label}]" for label in data.labels]
        return [self.label]

    def _from_confusion(self, cm: NDArray[np.float64]) -> NDArray[np.float64]:
        tp = np.diagonal(cm, axis1=1, axis2=2)
        true = cm.sum(axis=2)  # row sums: items of each reference class
        pred = cm.sum(axis=1)  # column sums: items predicted as each class
        if self.average == "micro":
            tp, true, pred = (x.sum(axis=1, keepdims=True) for x in (tp, true, pred))
        precision, recall = _ratio(tp, pred), _ratio(tp, true)
        if self.score == "precision":
            per_class = precision
        elif self.score == "recall":
            per_class = recall
        else:
            per_class = _ratio(2 * tp, true + pred)
        if self.average in ("micro", "per_class"):
            return per_class
        if self.average == "weighted":
            weights = _ratio(true, true.sum(axis=1, keepdims=True))
            per_class = per_class * weights
            weighted: NDArray[np.float64] = per_class.sum(axis=1, keepdims=True)
            return weighted
        macro: NDArray[np.float64] = per_class.mean(axis=1, keepdims=True)
        return macro


def _prf_class(score: str, average: str) -> type[_PRF]:
    name = f"{average}_{score}"
    doc = f"{score} of each class" if average == "per_class" else f"{average}-averaged {score}"
    return type(
        name,
        (_PRF,),
        {
            "name": name,
            "score": score,
            "average": average,
            "description": doc,
            "__module__": __name__,
        },
    )


class MCC(_Confusion):
    name = "mcc"
    description = "Matthews correlation coefficient (multiclass form of Gorodkin)"

    def _from_confusion(self, cm: NDArray[np.float64]) -> NDArray[np.float64]:
        t = cm.sum(axis=2)
        p = cm.sum(axis=1)
        c = np.trace(cm, axis1=1, axis2=2)
        s = cm.sum(axis=(1, 2))
        cov_ytyp = c * s - (t * p).sum(axis=1)
        cov_ypyp = s * s - (p * p).sum(axis=1)
        cov_ytyt = s * s - (t * t).sum(axis=1)
        den = np.sqrt(cov_ypyp * cov_ytyt)
        return _ratio(cov_ytyp, den)[:, None]


METRICS: list[type] = [
    Accuracy,
    MCC,
    *(
        _prf_class(score, average)
        for score in ("precision", "recall", "f1")
        for average in ("macro", "micro", "weighted", "per_class")
    ),
]
