"""The French pack's plugins, registered for each test as their entry points will register them.

Until ``pyproject.toml`` declares the ``fr`` entry points (and the package is reinstalled), the
formats and metrics are added here to the process-wide registries, and taken out again after
each test so that other test modules see the registries as the entry points fill them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from palmares.metrics import metric_registry
from palmares.packs.fr import loaders, metrics, task_path
from palmares.tasks import loader_registry


@pytest.fixture(autouse=True)
def fr_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    formats, metric_classes = loader_registry(), metric_registry()
    monkeypatch.setattr(formats, "_loaders", dict(formats._loaders))
    monkeypatch.setattr(metric_classes, "_classes", dict(metric_classes._classes))
    loaders.register(formats)
    metrics.register(metric_classes)
    yield


@pytest.fixture
def culture() -> Path:
    return task_path("culture-fr")


@pytest.fixture
def securite() -> Path:
    return task_path("securite-fr")
