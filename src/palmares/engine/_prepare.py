"""Turn references (from the dataset) and predictions (from a system) into metric data.

References are converted once per task split and reused for every predictions file scored
against it; predictions are converted column-wise with pyarrow where they come as an array.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from palmares.core import InputError, ItemSet, Predictions, ValueKind, label_text
from palmares.metrics import (
    ChoiceData,
    LabelData,
    MetricData,
    NumberData,
    PairData,
    RankingData,
    TextData,
)


def prepare_references(items: ItemSet, kind: ValueKind) -> Any:
    if kind is ValueKind.PAIR:
        return None  # pairs are compared with each other, not with a reference
    convert = _REFERENCE_CONVERTERS[kind]
    out: list[Any] = []
    for i, ref in enumerate(items.references):
        try:
            out.append(convert(ref))
        except (TypeError, ValueError) as exc:
            raise InputError(str(exc), field="reference", **items.where(i)) from None
    if kind is ValueKind.LABEL:
        return EncodedLabels.encode(pa.array(out, type=pa.string()))
    if kind is ValueKind.NUMBER:
        return np.asarray(out, dtype=np.float64)
    if kind is ValueKind.CHOICE:
        return ChoiceReferences.gather(out, items)
    return out


def _label(value: Any) -> str:
    text = label_text(value)
    if text is None:
        raise ValueError(f"is not a label: {value!r}")
    return text


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


def _choice_index(value: Any) -> tuple[int, dict[str, Any]]:
    """(index of the right choice, metric fields) of an answer given as its index or as
    ``{"answer": index, name: value, …}`` (what the multiple_choice protocol makes of it)."""
    fields: dict[str, Any] = {}
    if isinstance(value, dict):
        fields = {k: v for k, v in value.items() if k != "answer"}
        value = value.get("answer")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"is not the index of a choice: {value!r}")
    return value, fields


@dataclass(frozen=True)
class ChoiceReferences:
    """The right choice of each item and the items' metric fields (name → one value per item,
    see :class:`~palmares.metrics.ChoiceData`)."""

    answers: NDArray[np.int64]
    fields: dict[str, list[Any]]

    @classmethod
    def gather(cls, refs: list[tuple[int, dict[str, Any]]], items: ItemSet) -> ChoiceReferences:
        """Every item must give the same metric fields as the first one."""
        names = sorted(refs[0][1]) if refs else []
        for i, (_, fields) in enumerate(refs):
            if sorted(fields) != names:
                raise InputError(
                    f"metric fields {sorted(fields)} where the first item has {names}: every "
                    "item's answer gives the same ones",
                    field="reference",
                    **items.where(i),
                )
        return cls(
            answers=np.asarray([a for a, _ in refs], dtype=np.int64),
            fields={name: [f[name] for _, f in refs] for name in names},
        )


_REFERENCE_CONVERTERS = {
    ValueKind.LABEL: _label,
    ValueKind.TEXT: _texts,
    ValueKind.NUMBER: _number,
    ValueKind.RANKING: _relevance,
    ValueKind.CHOICE: _choice_index,
}


def metric_data(refs: Any, predictions: Predictions, kind: ValueKind, language: str) -> MetricData:
    values = predictions.values
    if kind is ValueKind.LABEL:
        return _label_data(refs, values, predictions.probabilities)
    pylist = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    if kind is ValueKind.CHOICE:
        return _choice_data(refs, pylist)
    if kind is ValueKind.PAIR:
        pairs = np.asarray([[p["first"], p["second"]] for p in pylist], dtype=np.float64)
        return PairData(first=pairs[:, 0], second=pairs[:, 1])
    if kind is ValueKind.TEXT:
        return TextData(refs=refs, preds=pylist, language=language)
    if kind is ValueKind.NUMBER:
        return NumberData(refs=refs, preds=np.asarray(pylist, dtype=np.float64))
    return RankingData(refs=refs, preds=pylist)


def _choice_data(refs: ChoiceReferences, preds: list[dict[str, list[float]]]) -> ChoiceData:
    """Per-choice scores ``{"logliks": [...], "chars": [...], "tokens": [...]}`` as padded
    arrays (missing choices get a log-likelihood of -inf: never chosen)."""
    width = max((len(p["logliks"]) for p in preds), default=1)
    shape = (len(preds), width)
    logliks, chars, tokens = np.full(shape, -np.inf), np.ones(shape), np.ones(shape)
    for i, p in enumerate(preds):
        k = len(p["logliks"])
        logliks[i, :k], chars[i, :k], tokens[i, :k] = p["logliks"], p["chars"], p["tokens"]
    return ChoiceData(
        refs=refs.answers, logliks=logliks, chars=chars, tokens=tokens, item_fields=refs.fields
    )


@dataclass(frozen=True)
class EncodedLabels:
    """Labels as (distinct values, code of each item): how references are kept between files."""

    values: list[str]
    codes: NDArray[np.int64]

    @classmethod
    def encode(cls, labels: pa.Array) -> EncodedLabels:
        encoded = labels if pa.types.is_dictionary(labels.type) else labels.dictionary_encode()
        return cls(
            values=encoded.dictionary.cast(pa.string()).to_pylist(),
            codes=encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
        )


def _label_data(
    refs: EncodedLabels,
    values: Sequence[Any] | pa.Array,
    probabilities: list[dict[str, float]] | None,
) -> LabelData:
    array = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    preds = EncodedLabels.encode(array)
    names = set(refs.values) | set(preds.values)
    if probabilities is not None:
        names |= {label for p in probabilities for label in p}
    labels = sorted(names)
    position = {label: i for i, label in enumerate(labels)}
    proba = None
    if probabilities is not None:
        proba = np.array([[p.get(name, 0.0) for name in labels] for p in probabilities])

    def recode(enc: EncodedLabels) -> NDArray[np.int64]:
        lookup = np.array([position[v] for v in enc.values], dtype=np.int64)
        return lookup[enc.codes] if enc.codes.size else enc.codes

    return LabelData(
        refs=recode(refs), preds=recode(preds), labels=tuple(labels), probabilities=proba
    )
