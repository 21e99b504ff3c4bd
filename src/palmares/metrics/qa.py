"""Question answering: exact match and token F1 (SQuAD conventions).

Both compare the prediction with each acceptable reference after normalisation
(:mod:`palmares.metrics.normalize`: the SQuAD v1.1 rule for English, its French adaptation for
``fr``) and keep the best reference, as the official SQuAD script does. Scores are in [0, 1].

Two conventions come from SQuAD v2.0 rather than v1.1, because v1.1 never meets the cases:

* an item without any reference is an unanswerable question, scored against the empty answer
  (the prediction must normalise to nothing);
* token F1 of two empty token lists is 1 (v1.1 returns 0); one empty list against a non-empty one
  gives 0.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from numpy.typing import NDArray

from palmares.core import InputError, ValueKind
from palmares.metrics._base import MeanMetric
from palmares.metrics._data import TextData
from palmares.metrics.normalize import normalize_answer, normalize_tokens


def _references(data: TextData) -> list[list[str]]:
    if len(data.refs) != len(data.preds):
        raise InputError(
            f"{len(data.preds)} predictions for {len(data.refs)} items with references"
        )
    return [refs if refs else [""] for refs in data.refs]


def exact_match_score(prediction: str, reference: str, language: str = "en") -> float:
    """1.0 when prediction and reference are equal after normalisation, else 0.0.

    >>> exact_match_score("l'Élysée", "Élysée", "fr")
    1.0
    """
    same = normalize_answer(prediction, language) == normalize_answer(reference, language)
    return float(same)


def token_f1_score(prediction: str, reference: str, language: str = "en") -> float:
    """F1 of the bags of normalised tokens (SQuAD), 1.0 when both are empty.

    >>> token_f1_score("le président Macron", "Emmanuel Macron", "fr")
    0.5
    """
    return _f1(normalize_tokens(prediction, language), normalize_tokens(reference, language))


def _f1(pred_tokens: list[str], ref_tokens: list[str]) -> float:
    if not pred_tokens or not ref_tokens:
        return float(pred_tokens == ref_tokens)
    common = Counter(pred_tokens) & Counter(ref_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


class ExactMatch(MeanMetric[TextData]):
    name = "exact_match"
    kind = ValueKind.TEXT
    description = (
        "share of answers equal to one of the references after normalisation "
        "(SQuAD rule; French articles and elisions for fr)"
    )

    def item_scores(self, data: TextData) -> NDArray[np.float64]:
        scores = np.empty(len(data.preds))
        for i, (pred, refs) in enumerate(zip(data.preds, _references(data), strict=True)):
            norm = normalize_answer(pred, data.language)
            scores[i] = float(any(norm == normalize_answer(r, data.language) for r in refs))
        return scores


class TokenF1(MeanMetric[TextData]):
    name = "token_f1"
    kind = ValueKind.TEXT
    description = (
        "SQuAD token F1: overlap of the bags of normalised tokens, best reference per item"
    )

    def item_scores(self, data: TextData) -> NDArray[np.float64]:
        scores = np.empty(len(data.preds))
        for i, (pred, refs) in enumerate(zip(data.preds, _references(data), strict=True)):
            tokens = normalize_tokens(pred, data.language)
            scores[i] = max(_f1(tokens, normalize_tokens(r, data.language)) for r in refs)
        return scores


METRICS: list[type] = [ExactMatch, TokenF1]
