"""``exact_number``: exact match on the number an answer gives, written the French way or not.

``exact_match`` compares normalised text, which fails on numbers: ``2 500`` and ``2500`` differ,
and so do ``2,50`` and ``2,5``. This metric reads the **first number** of the answer and
compares its value with the reference's, exactly (decimal arithmetic, no rounding):

* the decimal mark is a comma or a point: ``2,5`` = ``2.5`` = ``2,50``;
* thousands are grouped by spaces only (space, no-break space U+00A0, narrow no-break space
  U+202F), as French and SI write them: ``12 500`` = ``12500``. A point or a comma is always a
  decimal mark, so the English ``1,000`` reads as 1 and the German ``1.000`` as 1;
* a minus sign (``-`` or ``−``) directly before the digits makes the number negative;
* ``Réponse : 14 €`` gives 14; ``3 × 4 + 2 = 14`` gives 3 (ask for the number only, or use
  the protocol's ``extract`` to pick another one); an answer without a number scores 0.

A reference that is not a number (a weekday in ``dates-fr``) is compared as ``exact_match``
compares texts (normalisation of the task's language, :mod:`palmares.metrics.normalize`).
Item scores are 0 or 1, so the interval is Wilson's.

Registered through ``palmares.metrics`` (:mod:`palmares.packs.fr.metrics`).
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from palmares.core import ValueKind
from palmares.metrics import MeanMetric, TextData
from palmares.metrics.normalize import normalize_answer

_GROUP = "[ \u00a0\u202f]"
_NUMBER_PATTERN = rf"[-−]?(?:\d{{1,3}}(?:{_GROUP}\d{{3}})+(?!\d)|\d+)(?:[.,]\d+)?"
_NUMBER = re.compile(_NUMBER_PATTERN)
_WHOLE_NUMBER = re.compile(rf"\s*{_NUMBER_PATTERN}\s*")


def _value(text: str) -> Decimal:
    for space in " \u00a0\u202f":
        text = text.replace(space, "")
    return Decimal(text.replace(",", ".").replace("−", "-"))


def first_number(text: str) -> Decimal | None:
    """The value of the first number in ``text``, or None.

    >>> first_number("Réponse : 12 500 €"), first_number("2,50 L"), first_number("aucun")
    (Decimal('12500'), Decimal('2.50'), None)
    """
    match = _NUMBER.search(text)
    return None if match is None else _value(match.group(0))


def reference_number(text: str) -> Decimal | None:
    """The reference's value when the whole reference is one number, else None."""
    return _value(text.strip()) if _WHOLE_NUMBER.fullmatch(text) else None


def exact_number_score(prediction: str, reference: str, language: str = "fr") -> float:
    """1.0 when the answer's first number equals the reference number (or, for a reference
    that is not a number, when the normalised texts are equal), else 0.0.

    >>> exact_number_score("2 500 m", "2500"), exact_number_score("0.75", "0,75")
    (1.0, 1.0)
    >>> exact_number_score("125", "12,5"), exact_number_score("Vendredi.", "vendredi")
    (0.0, 1.0)
    """
    expected = reference_number(reference)
    if expected is None:
        same = normalize_answer(prediction, language) == normalize_answer(reference, language)
        return float(same)
    return float(first_number(prediction) == expected)


class ExactNumber(MeanMetric[TextData]):
    name = "exact_number"
    kind = ValueKind.TEXT
    description = (
        "share of answers whose first number equals the reference number (decimal comma or "
        "point, spaces between thousands); other references are compared as exact_match does"
    )

    def item_scores(self, data: TextData) -> NDArray[np.float64]:
        scores = np.empty(len(data.preds))
        for i, (pred, refs) in enumerate(zip(data.preds, data.refs, strict=True)):
            scores[i] = max(exact_number_score(pred, r, data.language) for r in refs or [""])
        return scores
