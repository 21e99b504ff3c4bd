"""What a metric receives: references and predictions of one kind, aligned item by item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from palmares.core import InputError


@dataclass(frozen=True)
class LabelData:
    """Class labels as integer codes into ``labels`` (sorted union of reference and predicted).

    ``probabilities`` (optional) has shape ``(n, len(labels))``: the system's probability of each
    label, in the order of ``labels``.
    """

    refs: NDArray[np.int64]
    preds: NDArray[np.int64]
    labels: tuple[str, ...]
    probabilities: NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(self.refs.size)


@dataclass(frozen=True)
class TextData:
    """Free text. Each item may have several acceptable references (SQuAD-style answers)."""

    refs: list[list[str]]
    preds: list[str]
    language: str = "en"

    def __len__(self) -> int:
        return len(self.preds)


@dataclass(frozen=True)
class NumberData:
    refs: NDArray[np.float64]
    preds: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.refs.size)


@dataclass(frozen=True)
class RankingData:
    """Ranked lists of document ids; ``refs[i]`` maps relevant ids to their graded relevance."""

    refs: list[dict[str, float]]
    preds: list[list[str]]

    def __len__(self) -> int:
        return len(self.preds)


@dataclass(frozen=True)
class ChoiceData:
    """A model's log-likelihood of each choice of a multiple-choice item.

    Arrays have shape ``(n, max_choices)``; items with fewer choices are padded with ``-inf``
    log-likelihoods (never chosen). ``chars`` and ``tokens`` are each choice's length, for the
    length-normalised scores. ``refs[i]`` is the index of the right choice.

    ``item_fields`` are the items' *metric fields*: per-item values that a metric needs besides
    the answer (BBQ's role of each choice), one sequence per name aligned with ``refs``. They
    come with the reference (an answer given as ``{"answer": …, name: value, …}``, see
    ``docs/tasks.md``), so no system sees them: not in a prompt, not among the inputs of a
    hidden split. A metric that needs one reads it with :meth:`item_field`.
    """

    refs: NDArray[np.int64]
    logliks: NDArray[np.float64]
    chars: NDArray[np.float64]
    tokens: NDArray[np.float64]
    item_fields: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.refs.size)

    def item_field(self, name: str, needed_by: str) -> Sequence[Any]:
        """The metric field ``name`` of every item; an :class:`InputError` naming the metric
        ``needed_by`` when the items have none."""
        values = self.item_fields.get(name)
        if values is None:
            given = ", ".join(sorted(self.item_fields)) or "none"
            raise InputError(
                f"metric {needed_by!r} needs the metric field {name!r} of every item, given "
                f'with its answer ({{"answer": ..., "{name}": ...}}); these items have: {given}'
            )
        return values


@dataclass(frozen=True)
class PairData:
    """The log-likelihoods of the two sentences of each pair (first, second)."""

    first: NDArray[np.float64]
    second: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.first.size)


MetricData = LabelData | TextData | NumberData | RankingData | ChoiceData | PairData


def encode_labels(
    refs: list[str], preds: list[str], probabilities: list[dict[str, float]] | None = None
) -> LabelData:
    """Encode label strings as codes (the simple path; the engine has a vectorised one)."""
    labels = tuple(sorted(set(refs) | set(preds)))
    index = {label: i for i, label in enumerate(labels)}
    proba = None
    if probabilities is not None:
        proba = np.array([[p.get(label, 0.0) for label in labels] for p in probabilities])
    return LabelData(
        refs=np.array([index[r] for r in refs], dtype=np.int64),
        preds=np.array([index[p] for p in preds], dtype=np.int64),
        labels=labels,
        probabilities=proba,
    )
