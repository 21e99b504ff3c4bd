"""The French pack's tasks, by id, for :func:`palmares.tasks.packs.resolve_task`."""

from __future__ import annotations

from typing import Any

from palmares.packs.fr import ALL_TASKS, find_task


def register(registry: Any) -> None:
    for task_id in ALL_TASKS:
        registry.add(task_id, find_task(task_id))
