"""Pure core: specs, items, predictions, scores, errors, hashing. No I/O (see README.md)."""

from palmares.core.errors import InputError, Message, PalmaresError
from palmares.core.hashing import canonical_json, hash_items, sha256_hex
from palmares.core.items import ItemSet, Predictions, ValueKind, label_text
from palmares.core.results import Score, ScoreTable
from palmares.core.spec import DatasetSpec, MetricRef, ProtocolSpec, StatisticsSpec, TaskSpec

__all__ = [
    "DatasetSpec",
    "InputError",
    "ItemSet",
    "Message",
    "MetricRef",
    "PalmaresError",
    "Predictions",
    "ProtocolSpec",
    "Score",
    "ScoreTable",
    "StatisticsSpec",
    "TaskSpec",
    "ValueKind",
    "canonical_json",
    "hash_items",
    "label_text",
    "sha256_hex",
]
