"""From loaded rows to the items of a task: pick the fields the spec names, check them."""

from __future__ import annotations

from typing import Any

from palmares.core import DatasetSpec, InputError, ItemSet
from palmares.tasks.loaders import Rows


def build_items(
    rows: Rows, spec: DatasetSpec, protocol_fields: dict[str, list[str]] | None = None
) -> ItemSet:
    """Items with the spec's fields; ``protocol_fields`` (task key → fields, e.g.
    ``protocol.context`` → the template's variables) are kept as inputs too."""
    if rows.n == 0:
        raise InputError("the dataset has no rows", file=rows.source)
    extra = [(key, f) for key, names in (protocol_fields or {}).items() for f in names]
    wanted = [
        ("dataset.id_field", spec.id_field),
        ("dataset.reference_field", spec.reference_field),
        ("dataset.group_field", spec.group_field),
        *(("dataset.input_fields", f) for f in spec.input_fields),
        *(("dataset.slice_fields", f) for f in spec.slice_fields),
        *extra,
    ]
    for key, name in wanted:
        if name is not None and name not in rows.columns:
            known = ", ".join(rows.columns)
            raise InputError(f"no column {name!r} in {rows.source} (columns: {known})", field=key)
    ids = _ids(rows, spec.id_field)
    if spec.reference_field is None:
        refs: list[object] = [None] * rows.n  # pairs: nothing to compare with
    else:
        refs = rows.columns[spec.reference_field]
        for i, ref in enumerate(refs):
            if ref is None or ref == "":
                raise InputError("missing reference", field=spec.reference_field, **rows.where(i))
    inputs = [*spec.input_fields, *(f for _, f in extra)]
    return ItemSet(
        ids=ids,
        inputs={f: rows.columns[f] for f in dict.fromkeys(inputs)},
        references=refs,
        slices={f: [_text(v) for v in rows.columns[f]] for f in spec.slice_fields},
        groups=None
        if spec.group_field is None
        else [_text(v) for v in rows.columns[spec.group_field]],
        rows=rows.lines,
        source=rows.source,
    )


def _ids(rows: Rows, id_field: str | None) -> list[str]:
    if id_field is None:
        return [str(i) for i in range(rows.n)]  # row number, 0-based like most tooling
    ids: list[str] = []
    first_seen: dict[str, int] = {}
    for i, value in enumerate(rows.columns[id_field]):
        if value is None or value == "" or isinstance(value, (bool, float, list, dict)):
            raise InputError(
                f"id must be a non-empty string or integer, got {value!r}",
                field=id_field,
                **rows.where(i),
            )
        item_id = str(value)
        if item_id in first_seen:
            j = first_seen[item_id]
            seen = rows.where(j).get("line", j + 1)
            raise InputError(
                f"duplicate id {item_id!r} (first seen on line/row {seen})",
                field=id_field,
                **rows.where(i),
            )
        first_seen[item_id] = i
        ids.append(item_id)
    return ids


def _text(value: Any) -> str:
    return "(missing)" if value is None or value == "" else str(value)
