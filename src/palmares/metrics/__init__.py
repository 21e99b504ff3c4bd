"""Metrics: one small module per family, one registry (entry point group ``palmares.metrics``)."""

from palmares.metrics._base import CorpusMetric, MeanMetric, Metric
from palmares.metrics._data import (
    LabelData,
    MetricData,
    NumberData,
    RankingData,
    TextData,
    encode_labels,
)
from palmares.metrics._registry import MetricRegistry, metric_registry

__all__ = [
    "CorpusMetric",
    "LabelData",
    "MeanMetric",
    "Metric",
    "MetricData",
    "MetricRegistry",
    "NumberData",
    "RankingData",
    "TextData",
    "encode_labels",
    "metric_registry",
]
