"""JSON: one array of objects."""

from __future__ import annotations

from palmares.core import DatasetSpec, InputError
from palmares.tasks.loaders._base import Rows, columns_from_records, read_json_document


def load(location: str, spec: DatasetSpec) -> Rows:
    data = read_json_document(location)
    if not isinstance(data, list):
        raise InputError("expected a JSON array of objects at the top level", file=location)
    return Rows(columns_from_records(data, location), len(data), location)
