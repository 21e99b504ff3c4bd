"""Items of a dataset split and the predictions a system made for them, kept column-wise.

Columns rather than one object per item: a dataset or a predictions file can have a million rows,
and every metric works on whole columns (numpy) anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any


class ValueKind(StrEnum):
    """What a prediction (and the reference it is compared with) must be, as metrics require."""

    LABEL = "label"  # a class label: string or integer, compared as text
    TEXT = "text"  # free text, compared after normalisation
    NUMBER = "number"  # a finite real number
    RANKING = "ranking"  # an ordered list of document ids
    CHOICE = "choice"  # per-choice log-likelihoods; the reference is the right choice's index
    PAIR = "pair"  # the log-likelihoods of two sentences; no reference


def label_text(value: Any) -> str | None:
    """A class label as the text it is compared by, or None if ``value`` is not a label.

    Labels are compared as text, the same way for references and predictions: ``1``, ``1.0``
    and ``"1"`` are label ``"1"``; booleans are ``"true"`` and ``"false"``; the empty string,
    fractions, lists and null are not labels.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, str) and value:
        return value
    return None


@dataclass(frozen=True)
class ItemSet:
    """The items of one split of a task's dataset.

    ``rows`` keeps each item's line in its ``source`` file (1-based, as an editor counts) where
    the format has lines, so that errors about an item can point at the spot.
    """

    ids: list[str]
    inputs: dict[str, list[Any]]
    references: list[Any]
    slices: dict[str, list[str]] = field(default_factory=dict)
    groups: list[str] | None = None
    rows: list[int] | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each id."""
        return {item_id: i for i, item_id in enumerate(self.ids)}

    def record(self, i: int) -> dict[str, Any]:
        """Item ``i`` as one JSON-able record (what the content hash is computed on)."""
        rec: dict[str, Any] = {
            "id": self.ids[i],
            "inputs": {k: v[i] for k, v in self.inputs.items()},
            "reference": self.references[i],
        }
        if self.slices:
            rec["slices"] = {k: v[i] for k, v in self.slices.items()}
        if self.groups is not None:
            rec["group"] = self.groups[i]
        return rec

    def head(self, n: int) -> ItemSet:
        """The first ``n`` items (all of them if there are fewer)."""
        return self if n >= len(self.ids) else self.take(range(n))

    def take(self, positions: Sequence[int]) -> ItemSet:
        """The items at ``positions``, in that order."""

        def pick(column: list[Any]) -> list[Any]:
            return [column[i] for i in positions]

        return ItemSet(
            ids=pick(self.ids),
            inputs={k: pick(v) for k, v in self.inputs.items()},
            references=pick(self.references),
            slices={k: pick(v) for k, v in self.slices.items()},
            groups=None if self.groups is None else pick(self.groups),
            rows=None if self.rows is None else pick(self.rows),
            source=self.source,
        )

    def where(self, i: int) -> dict[str, Any]:
        """Location of item ``i`` in its source file, as keyword arguments of InputError."""
        if self.rows is not None:
            return {"file": self.source, "line": self.rows[i]}
        return {"file": f"{self.source} (row {i + 1})"}


@dataclass(frozen=True)
class Predictions:
    """A system's predictions, aligned on a task's items (``values[i]`` is for item ``i``).

    ``probabilities`` (optional) holds, per item, a mapping label → probability, used by
    calibration metrics. ``digest`` is the SHA-256 of the file the predictions came from.
    """

    values: list[Any]
    probabilities: list[dict[str, float]] | None = None
    digest: str = ""
    source: str = ""
