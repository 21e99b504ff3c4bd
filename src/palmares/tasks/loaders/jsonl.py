"""JSON Lines: one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

from palmares.core import DatasetSpec, InputError
from palmares.tasks.loaders._base import Rows, columns_from_records, json_problem


def load(location: str, spec: DatasetSpec) -> Rows:
    records, lines = [], []
    with Path(location).open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError:
                raise InputError("not valid UTF-8 text", file=location, line=lineno) from None
            if not text.strip():
                continue
            try:
                rec = json.loads(text)
            except (ValueError, RecursionError) as exc:
                problem = f"invalid JSON: {json_problem(exc)}"
                raise InputError(problem, file=location, line=lineno) from None
            if not isinstance(rec, dict):
                raise InputError("expected a JSON object", file=location, line=lineno)
            records.append(rec)
            lines.append(lineno)
    return Rows(columns_from_records(records, location), len(records), location, lines)
