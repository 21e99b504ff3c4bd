"""ROUGE-L: F-measure of the longest common subsequence of tokens (Lin, 2004).

Item score = ROUGE-L F1 of the prediction against each reference, best reference kept (what
``rouge_score.RougeScorer.score_multi`` does). As in the ``rouge-score`` package, either side
without tokens scores 0 and there is no stemming.

Tokeniser. ``rouge-score``'s default tokeniser lowercases and splits on anything outside
``[a-z0-9]``, so it cuts every non-ASCII letter out of a word: ``"élève café"`` becomes
``["l", "ve", "caf"]``. That breaks French (and any language beyond ASCII). :func:`tokenize`
keeps Unicode letters and digits instead: NFC composition, lowercase, tokens = maximal runs of
letters and digits (``[^\\W_]+``). On ASCII text both tokenisers give the same tokens, so the
scores match ``rouge-score`` exactly there (the tests check it).

LCS length uses the bit-parallel form of the LCS dynamic programme (Allison & Dix 1986, Hyyrö
2004): one row of the DP table is held as the bits of a Python integer, so each token of the
prediction updates the whole row in a few big-integer operations.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from numpy.typing import NDArray

from palmares.core import InputError, ValueKind
from palmares.metrics._base import MeanMetric
from palmares.metrics._data import TextData

_TOKEN = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """Lowercased runs of Unicode letters and digits.

    >>> tokenize("L'élève, 3e de sa classe!")
    ['l', 'élève', '3e', 'de', 'sa', 'classe']
    """
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists.

    >>> lcs_length("the cat sat on the mat".split(), "the cat is on a mat".split())
    4
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    row = full  # bit i is 0 where the LCS of a[: i + 1] grew
    for token in b:
        match = row & masks.get(token, 0)
        row = ((row + match) | (row - match)) & full
    return len(a) - row.bit_count()


def rouge_l_f1(prediction: list[str], reference: list[str]) -> float:
    """ROUGE-L F-measure of two token lists (0 when either is empty, as ``rouge-score``).

    >>> round(rouge_l_f1("the cat sat".split(), "the cat sat down".split()), 4)
    0.8571
    """
    if not prediction or not reference:
        return 0.0
    lcs = lcs_length(prediction, reference)
    precision = lcs / len(prediction)
    recall = lcs / len(reference)
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


class RougeL(MeanMetric[TextData]):
    name = "rouge_l"
    kind = ValueKind.TEXT
    description = (
        "ROUGE-L F-measure (longest common subsequence of tokens), best reference per item; "
        "tokens keep Unicode letters"
    )

    def item_scores(self, data: TextData) -> NDArray[np.float64]:
        if len(data.refs) != len(data.preds):
            raise InputError(
                f"{len(data.preds)} predictions for {len(data.refs)} items with references"
            )
        scores = np.empty(len(data.preds))
        for i, (pred, refs) in enumerate(zip(data.preds, data.refs, strict=True)):
            if not refs:
                raise InputError(f"item {i} has no reference")
            tokens = tokenize(pred)
            scores[i] = max(rouge_l_f1(tokens, tokenize(ref)) for ref in refs)
        return scores


METRICS: list[type] = [RougeL]
