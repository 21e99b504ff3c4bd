"""Filling a registry from an entry point group: how built-ins and third-party plugins arrive."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

R = TypeVar("R")


def fill_registry(registry: Any, group: str, builtin: str) -> None:
    """Call every ``register(registry)`` hook of ``group``.

    ``builtin`` (``module:function``) is Palmarès's own hook; it is called directly when the
    package runs from a source tree that was never installed (no entry point metadata).
    """
    loaded = set()
    for ep in entry_points(group=group):
        ep.load()(registry)
        loaded.add(ep.value)
    if builtin not in loaded:
        module, _, function = builtin.partition(":")
        getattr(importlib.import_module(module), function)(registry)


def filled_once(factory: Callable[[], R], group: str, builtin: str) -> Callable[[], R]:
    """A function returning the process-wide registry made by ``factory``, filled from the
    entry points of ``group`` (see :func:`fill_registry`) on first use."""
    made: list[R] = []

    def registry() -> R:
        if not made:
            new = factory()
            fill_registry(new, group, builtin)
            made.append(new)
        return made[0]

    return registry
