"""The result of a run: scores with their intervals, provenance hashes, item-level scores."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from palmares.core import ScoreTable


@dataclass
class RunResult:
    task: dict[str, Any]
    split: str
    dataset_hash: str
    predictions_hash: str
    palmares_version: str
    statistics: dict[str, Any]
    table: ScoreTable
    ids: list[str]
    predictions: Sequence[Any] | pa.Array
    item_scores: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "split": self.split,
            "dataset_hash": self.dataset_hash,
            "predictions_hash": self.predictions_hash,
            "palmares_version": self.palmares_version,
            "statistics": self.statistics,
            **self.table.to_json(),
            **self.extra,
        }

    def write(self, directory: str | Path) -> Path:
        """Write ``results.json`` and ``items.jsonl`` into ``directory``, all or nothing.

        Both files are written to a temporary folder beside it, which is then renamed: a crash
        leaves either the complete pair or nothing.
        """
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        (tmp / "results.json").write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        with (tmp / "items.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(self._item_lines())
        if directory.exists():
            old = tmp.with_name(tmp.name + ".old")
            os.rename(directory, old)
            os.rename(tmp, directory)
            shutil.rmtree(old)
        else:
            os.rename(tmp, directory)
        return directory

    def _item_lines(self) -> Any:
        preds = (
            self.predictions.to_pylist()
            if isinstance(self.predictions, pa.Array)
            else self.predictions
        )
        names = list(self.item_scores)
        columns = [self.item_scores[n].tolist() for n in names]
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        for i, item_id in enumerate(self.ids):
            scores = {n: _finite(col[i]) for n, col in zip(names, columns, strict=True)}
            yield dumps({"id": item_id, "prediction": preds[i], "scores": scores}) + "\n"


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
