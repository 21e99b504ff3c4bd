"""The French pack: tasks whose data the Palmarès project writes itself (:data:`TASKS`), and
tasks on public datasets (:data:`DATA_TASKS`).

========================  ================  ===========================================
task                      protocol          data
========================  ================  ===========================================
``culture-fr``            multiple_choice   163 written items (+ 5 few-shot), 6 categories
``calcul-fr``             generate          arithmetic word problems, generated from a seed
``dates-fr``              generate          dates and durations, generated from a seed
``unites-fr``             generate          unit conversions, generated from a seed
``securite-fr``           chat              80 prompts: 40 to refuse, 40 benign look-alikes
``crows-pairs-fr``        pairs             French CrowS-Pairs, 1,677 pairs (CC BY-SA)
``bbq``                   multiple_choice   BBQ, 6 categories, 11,956 items (CC BY, English)
``piaf``                  generate          PIAF v1.0, 3,835 questions (MIT)
``arc-fr``                multiple_choice   Okapi ARC-Challenge fr, 1,169 + 298 (CC BY-NC)
``mmlu-fr``               multiple_choice   Okapi MMLU fr, 1,417 + 270 (CC BY-NC)
``rte3-fr``               multiple_choice   RTE3-FR, 800 + 800 (BSD-2-Clause)
``allocine``              multiple_choice   Allociné samples, 1,000 + 400 (MIT)
``wmt14-en-fr``           generate          newstest2014 en→fr, 3,003 (research use)
``wmt14-fr-en``           generate          newstest2014 fr→en, 3,003 (research use)
========================  ================  ===========================================

The public datasets are never copied into the pack: each task names its source (a URL,
downloaded once into a cache, or a sacrebleu test set) and, under ``dataset.local``, where a
copy lies in a data folder laid out like the project's ``shared/data``, read instead when one is
given (``PALMARES_DATA_DIR`` or ``--data-dir``). The NC and research-use sets (arc-fr, mmlu-fr,
wmt14-*) are for research and tests only.

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

__all__ = ["ALL_TASKS", "DATA_TASKS", "TASKS", "find_task", "pack_dir", "task_path"]

#: the tasks whose data the project wrote, by id
TASKS = ("culture-fr", "calcul-fr", "dates-fr", "unites-fr", "securite-fr")
#: the tasks on public datasets, by id
DATA_TASKS = (
    "crows-pairs-fr",
    "bbq",
    "piaf",
    "arc-fr",
    "mmlu-fr",
    "rte3-fr",
    "allocine",
    "wmt14-en-fr",
    "wmt14-fr-en",
)
#: every task of the pack
ALL_TASKS = TASKS + DATA_TASKS


def pack_dir() -> Path:
    """The folder holding one folder per task."""
    return Path(__file__).resolve().parent


def task_path(task_id: str) -> Path:
    """The ``task.yaml`` of one of :data:`TASKS`."""
    if task_id not in TASKS:
        raise KeyError(f"no task {task_id!r} in the French pack (tasks: {', '.join(TASKS)})")
    return pack_dir() / task_id / "task.yaml"


def find_task(task_id: str) -> Path:
    """The ``task.yaml`` of any task of the pack (:data:`ALL_TASKS`)."""
    if task_id not in ALL_TASKS:
        raise KeyError(f"no task {task_id!r} in the French pack (tasks: {', '.join(ALL_TASKS)})")
    return pack_dir() / task_id / "task.yaml"
