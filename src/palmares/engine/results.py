"""The result of a run: scores with their intervals, provenance hashes, item-level scores."""

from __future__ import annotations

import json
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
from palmares.engine._jsonl import json_floats, json_strings, write_jsonl


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
        with (tmp / "items.jsonl").open("wb") as fh:
            write_jsonl(fh, self._item_parts(), len(self.ids))
        if directory.exists():
            old = tmp.with_name(tmp.name + ".old")
            os.rename(directory, old)
            os.rename(tmp, directory)
            shutil.rmtree(old)
        else:
            os.rename(tmp, directory)
        return directory

    def _item_parts(self) -> list[str | pa.Array]:
        """``{"id": …, "prediction": …, "scores": {…}}`` per item, as columns of JSON texts."""
        parts: list[str | pa.Array] = [
            '{"id": ',
            json_strings(pa.array(self.ids, type=pa.string())),
            ', "prediction": ',
            json_strings(self.predictions),
            ', "scores": {',
        ]
        for j, (name, column) in enumerate(self.item_scores.items()):
            parts += [(", " if j else "") + json.dumps(name, ensure_ascii=False) + ": "]
            parts.append(json_floats(column))
        parts.append("}}")
        return parts
