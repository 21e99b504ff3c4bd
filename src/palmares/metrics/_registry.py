"""The metric registry. Built-ins register through the same entry point third parties use.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."palmares.metrics"]
    my_metrics = "my_package.palmares_plugin:register"

where ``register(registry)`` calls ``registry.add(MyMetric)`` for each metric class.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from palmares._plugins import filled_once
from palmares.core import InputError
from palmares.metrics._base import Metric

ENTRY_POINT_GROUP = "palmares.metrics"


class MetricRegistry:
    def __init__(self) -> None:
        self._classes: dict[str, type[Metric[Any]]] = {}

    def add(self, cls: type[Metric[Any]]) -> type[Metric[Any]]:
        """Register a metric class under its ``name``; usable as a class decorator."""
        if cls.name in self._classes and self._classes[cls.name] is not cls:
            raise ValueError(f"metric {cls.name!r} is registered twice")
        self._classes[cls.name] = cls
        return cls

    def names(self) -> list[str]:
        return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __iter__(self) -> Iterator[type[Metric[Any]]]:
        return iter(self._classes[n] for n in self.names())

    def get(self, name: str) -> type[Metric[Any]]:
        try:
            return self._classes[name]
        except KeyError:
            raise InputError(
                f"unknown metric {name!r}; known metrics: {', '.join(self.names())}"
            ) from None

    def create(self, name: str, options: dict[str, Any] | None = None) -> Metric[Any]:
        return self.get(name)(**(options or {}))


#: The process-wide registry, filled from the ``palmares.metrics`` entry points on first use.
metric_registry = filled_once(
    MetricRegistry, ENTRY_POINT_GROUP, "palmares.metrics._builtins:register"
)
