"""The French pack: tasks whose data the Palmarès project writes itself.

========================  ================  ===========================================
task                      protocol          data
========================  ================  ===========================================
``culture-fr``            multiple_choice   163 written items (+ 5 few-shot), 6 categories
``calcul-fr``             generate          arithmetic word problems, generated from a seed
``dates-fr``              generate          dates and durations, generated from a seed
``unites-fr``             generate          unit conversions, generated from a seed
``securite-fr``           chat              80 prompts: 40 to refuse, 40 benign look-alikes
========================  ================  ===========================================

Each task folder holds its ``task.yaml``, whose ``description`` is the task's datasheet. The
generated tasks read their ``seed`` and ``n`` from a small JSON recipe per split
(:mod:`palmares.packs.fr.loaders`); their answers are scored by ``exact_number``
(:mod:`palmares.packs.fr.number`). ``securite-fr`` is scored by a transparent refusal detector
(:mod:`palmares.packs.fr.refusal`) through ``over_refusal``, ``under_refusal`` and
``refusal_accuracy`` (:mod:`palmares.packs.fr.safety`).

The formats and metrics arrive through the ``palmares.loaders`` and ``palmares.metrics`` entry
points (``register`` in :mod:`~palmares.packs.fr.loaders` and :mod:`~palmares.packs.fr.metrics`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["TASKS", "pack_dir", "task_path"]

#: the tasks of the pack, by id
TASKS = ("culture-fr", "calcul-fr", "dates-fr", "unites-fr", "securite-fr")


def pack_dir() -> Path:
    """The folder holding one folder per task."""
    return Path(__file__).resolve().parent


def task_path(task_id: str) -> Path:
    """The ``task.yaml`` of one of :data:`TASKS`."""
    if task_id not in TASKS:
        raise KeyError(f"no task {task_id!r} in the French pack (tasks: {', '.join(TASKS)})")
    return pack_dir() / task_id / "task.yaml"
