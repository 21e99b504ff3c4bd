"""The backend registry. Built-ins register through the same entry point third parties use.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."palmares.backends"]
    my_backend = "my_package.palmares_plugin:register"

where ``register(registry)`` calls ``registry.add("name", "module:Class", extra=None)``. Classes
are named, not imported, so that a backend's heavy dependencies load only when it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from palmares._plugins import filled_once
from palmares.backends._base import Backend
from palmares.core import InputError

ENTRY_POINT_GROUP = "palmares.backends"


class BackendRegistry:
    def __init__(self) -> None:
        self._paths: dict[str, str] = {}

    def add(self, name: str, path: str) -> None:
        """Register ``module:Class`` under ``name`` (imported on first use)."""
        if name in self._paths and self._paths[name] != path:
            raise ValueError(f"backend {name!r} is registered twice")
        self._paths[name] = path

    def names(self) -> list[str]:
        return sorted(self._paths)

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def get(self, name: str) -> type[Backend]:
        if name not in self._paths:
            raise InputError(
                f"unknown backend {name!r}; known: {', '.join(self.names())}", field="model"
            )
        module, _, cls = self._paths[name].partition(":")
        found: type[Backend] = getattr(importlib.import_module(module), cls)
        return found

    def create(self, spec: str, options: dict[str, str] | None = None) -> Backend:
        """A backend from ``name:target`` (``llama:model.gguf``, ``openai:URL#model``)."""
        name, sep, target = spec.partition(":")
        if not sep or not target:
            raise InputError(
                f"a model is named BACKEND:TARGET (e.g. llama:model.gguf or "
                f"openai:http://127.0.0.1:8000/v1#model-name), got {spec!r}",
                field="model",
            )
        return self.get(name).create(target, dict(options or {}))


#: The process-wide registry, filled from the ``palmares.backends`` entry points.
backend_registry = filled_once(
    BackendRegistry, ENTRY_POINT_GROUP, "palmares.backends._builtins:register"
)


def load_model(spec: str, options: dict[str, Any] | None = None) -> Backend:
    return backend_registry().create(spec, {k: str(v) for k, v in (options or {}).items()})
