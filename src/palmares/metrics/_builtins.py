"""Registers the built-in metrics (entry point ``palmares.metrics: builtins``)."""

from __future__ import annotations

from palmares.metrics import (
    calibration,
    classification,
    loglikelihood,
    qa,
    ranking,
    regression,
    rouge,
    translation,
)
from palmares.metrics._registry import MetricRegistry

_MODULES = (classification, qa, translation, rouge, regression, ranking, calibration, loglikelihood)


def register(registry: MetricRegistry) -> None:
    for module in _MODULES:
        for cls in module.METRICS:
            registry.add(cls)
