"""JSON: one array of objects."""

from __future__ import annotations

import json
from pathlib import Path

from palmares.core import DatasetSpec, InputError
from palmares.tasks.loaders._base import Rows, columns_from_records


def load(location: str, spec: DatasetSpec) -> Rows:
    try:
        data = json.loads(Path(location).read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8 text", file=location) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=location, line=exc.lineno) from None
    if not isinstance(data, list):
        raise InputError("expected a JSON array of objects at the top level", file=location)
    return Rows(columns_from_records(data, location), len(data), location)
