"""Metrics: one small module per family, one registry (entry point group ``palmares.metrics``)."""

from palmares.metrics._base import CorpusMetric, MeanMetric, Metric
from palmares.metrics._data import (
    ChoiceData,
    LabelData,
    MetricData,
    NumberData,
    PairData,
    RankingData,
    TextData,
    encode_labels,
)
from palmares.metrics._registry import MetricRegistry, metric_registry

__all__ = [
    "ChoiceData",
    "CorpusMetric",
    "LabelData",
    "MeanMetric",
    "Metric",
    "MetricData",
    "MetricRegistry",
    "NumberData",
    "PairData",
    "RankingData",
    "TextData",
    "encode_labels",
    "metric_registry",
]
