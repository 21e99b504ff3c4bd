"""Scoring a submission on the hidden split, split Kaggle-style into a public and a private part.

Each hidden item belongs to the public part or the private part by a seeded hash of its id (a
fixed share, ``PUBLIC_SHARE``), the same for every submission: the public part is shown during the
phase, the private part decides the final ranking. Scores carry their intervals (``Scorer``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa

from palmares.core import ItemSet, Predictions
from palmares.engine import Scorer
from palmares.tasks import Task, read_predictions

PUBLIC_SHARE = 0.5


def public_positions(items: ItemSet, seed: str) -> list[int]:
    """Positions of the items in the public part (hash of seed and id below the share)."""
    cut = int(PUBLIC_SHARE * 2**32)
    return [
        i
        for i, item_id in enumerate(items.ids)
        if int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode()).digest()[:4], "big") < cut
    ]


def subset_predictions(predictions: Predictions, positions: list[int]) -> Predictions:
    values = predictions.values
    if isinstance(values, pa.Array):
        picked: Any = values.take(pa.array(positions, type=pa.int64()))
    else:
        picked = [values[i] for i in positions]
    probabilities = predictions.probabilities
    return Predictions(
        values=picked,
        probabilities=None if probabilities is None else [probabilities[i] for i in positions],
        digest=predictions.digest,
        source=predictions.source,
    )


def score_parts(
    task: Task, split: str, source: str | Predictions, seed: str, items: ItemSet | None = None
) -> dict[str, dict[str, Any]]:
    """``{"public": scores, "private": scores}`` of a predictions file, or of predictions a
    model made on ``items`` (the split's items as its protocol scores them), as in results.json."""
    every = task.items(split) if items is None else items
    if isinstance(source, str):
        predictions = read_predictions(source, every, task.value_kind)
    else:
        predictions = source
    public = public_positions(every, seed)
    chosen = np.zeros(len(every), dtype=bool)
    chosen[public] = True
    private = np.flatnonzero(~chosen).tolist()
    out = {}
    for name, positions in (("public", public), ("private", private)):
        part = Scorer(task, split, items=every.take(positions))
        out[name] = part.score(subset_predictions(predictions, positions)).table.to_json()
    return out
