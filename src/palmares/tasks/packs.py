"""Task names: a task YAML file, or the id of a task of an installed pack (``culture-fr``,
``arc-fr``: ``palmares tasks list``). Every command and every campaign ``task:`` entry that takes
a task resolves its name here, the same way.

Packs arrive through the ``palmares.tasks`` entry point group: each hook ``register(registry)``
calls ``registry.add(task_id, path_of_its_task_yaml)``. The French pack is built in."""

from __future__ import annotations

from pathlib import Path

from palmares._plugins import filled_once
from palmares.core import InputError


class PackRegistry:
    """Task id → the ``task.yaml`` of that pack task, in the order the packs added them."""

    def __init__(self) -> None:
        self._paths: dict[str, Path] = {}

    def add(self, task_id: str, path: Path) -> None:
        if task_id in self._paths and self._paths[task_id] != path:
            raise ValueError(f"two pack tasks named {task_id!r}: {self._paths[task_id]}, {path}")
        self._paths[task_id] = path

    def ids(self) -> list[str]:
        return list(self._paths)

    def get(self, task_id: str) -> Path | None:
        return self._paths.get(task_id)


pack_registry = filled_once(PackRegistry, "palmares.tasks", "palmares.packs.fr._ids:register")


def _looks_like_id(name: str) -> bool:
    return "/" not in name and "\\" not in name and not name.endswith((".yaml", ".yml"))


def resolve_task(name: str, base: str | Path | None = None) -> Path:
    """The task file that ``name`` means: a file (relative to ``base``, default the current
    folder), else a pack task id. A file of that name wins over a pack id. A name that is
    neither raises :class:`InputError` listing the pack tasks; a missing path is returned as it
    is (reading it says « file not found » with its path)."""
    path = Path(name) if base is None else Path(base) / name
    if path.is_file():
        return path
    pack = pack_registry().get(name)
    if pack is not None:
        return pack
    if not path.exists() and _looks_like_id(name):
        raise InputError(
            f"no task file and no pack task {name!r} "
            f"(pack tasks: {', '.join(pack_registry().ids())})"
        )
    return path
