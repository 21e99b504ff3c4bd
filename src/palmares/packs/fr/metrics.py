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


#: metrics whose best value is a point, not an end of the scale: a leaderboard ranks them by
#: distance to it (``Metric.target``; docs/metrics.md, "Direction"). BBQ's bias scores: 0 is no
#: bias, and a negative score is bias against the stereotype, not better than 0.
TARGETS: dict[type[Metric[Any]], float] = {DisambiguatedBias: 0.0, AmbiguousBias: 0.0}
for _cls, _target in TARGETS.items():
    _cls.target = _target


def register(registry: MetricRegistry) -> None:
    for cls in METRICS:
        registry.add(cls)
