"""Turn references (from the dataset) and predictions (from a system) into metric data.

References are converted once per task split and reused for every predictions file scored
against it; predictions are converted column-wise with pyarrow where they come as an array.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from palmares.core import InputError, ItemSet, Predictions, ValueKind
from palmares.metrics import LabelData, MetricData, NumberData, RankingData, TextData


def prepare_references(items: ItemSet, kind: ValueKind) -> Any:
    convert = _REFERENCE_CONVERTERS[kind]
    out = []
    for i, ref in enumerate(items.references):
        try:
            out.append(convert(ref))
        except (TypeError, ValueError) as exc:
            raise InputError(f"reference {exc}", field="reference", **items.where(i)) from None
    if kind is ValueKind.LABEL:
        return pa.array(out, type=pa.string())
    if kind is ValueKind.NUMBER:
        return np.asarray(out, dtype=np.float64)
    return out


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"is not a label: {value!r}")


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"is not a text or a non-empty list of texts: {value!r}")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"is not a number: {value!r}")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"is not a finite number: {value!r}")
    return number


def _relevance(value: Any) -> dict[str, float]:
    if isinstance(value, str):
        stripped = value.strip()
        value = json.loads(stripped) if stripped[:1] in "[{" else stripped.split()
    if isinstance(value, dict):
        return {str(k): float(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(v): 1.0 for v in value}
    raise ValueError(f"is not a list of relevant ids or a mapping id → relevance: {value!r}")


_REFERENCE_CONVERTERS = {
    ValueKind.LABEL: _label,
    ValueKind.TEXT: _texts,
    ValueKind.NUMBER: _number,
    ValueKind.RANKING: _relevance,
}


def metric_data(refs: Any, predictions: Predictions, kind: ValueKind, language: str) -> MetricData:
    values = predictions.values
    if kind is ValueKind.LABEL:
        return _label_data(refs, values, predictions.probabilities)
    pylist = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    if kind is ValueKind.TEXT:
        return TextData(refs=refs, preds=pylist, language=language)
    if kind is ValueKind.NUMBER:
        return NumberData(refs=refs, preds=np.asarray(pylist, dtype=np.float64))
    return RankingData(refs=refs, preds=pylist)


def _label_data(
    refs: pa.Array, values: Sequence[Any] | pa.Array, probabilities: list[dict[str, float]] | None
) -> LabelData:
    preds = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    universe = pa.concat_arrays([refs, preds])
    if probabilities is not None:
        extra = sorted({label for p in probabilities for label in p})
        universe = pa.concat_arrays([universe, pa.array(extra, type=pa.string())])
    unique = pc.unique(universe)
    labels = unique.take(pc.sort_indices(unique))
    proba = None
    if probabilities is not None:
        names = labels.to_pylist()
        proba = np.array([[p.get(name, 0.0) for name in names] for p in probabilities])
    return LabelData(
        refs=pc.index_in(refs, value_set=labels).to_numpy().astype(np.int64),
        preds=pc.index_in(preds, value_set=labels).to_numpy().astype(np.int64),
        labels=tuple(labels.to_pylist()),
        probabilities=proba,
    )
