"""The French pack's metrics, registered through the entry point group ``palmares.metrics``::

    [project.entry-points."palmares.metrics"]
    fr = "palmares.packs.fr.metrics:register"

``exact_number`` (:mod:`palmares.packs.fr.number`) scores the generated tasks;
``over_refusal``, ``under_refusal`` and ``refusal_accuracy`` (:mod:`palmares.packs.fr.safety`)
score ``securite-fr``; ``bbq_s_dis`` and ``bbq_s_amb`` (:mod:`palmares.packs.fr.bias`) score
``bbq``.
"""

from __future__ import annotations

from typing import Any

from palmares.metrics import Metric, MetricRegistry
from palmares.packs.fr.bias import AmbiguousBias, DisambiguatedBias
from palmares.packs.fr.number import ExactNumber
from palmares.packs.fr.safety import OverRefusal, RefusalAccuracy, UnderRefusal

METRICS: tuple[type[Metric[Any]], ...] = (
    ExactNumber,
    OverRefusal,
    UnderRefusal,
    RefusalAccuracy,
    DisambiguatedBias,
    AmbiguousBias,
)


def register(registry: MetricRegistry) -> None:
    for cls in METRICS:
        registry.add(cls)
