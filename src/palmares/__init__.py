"""Palmarès: open platform for AI evaluation challenges.

The public library API: load a task, read a predictions file, score it.
"""

from palmares._version import __version__
from palmares.core import InputError, PalmaresError, Score, TaskSpec
from palmares.engine import RunResult, Scorer, score_predictions
from palmares.tasks import Task, load_task, read_predictions

__all__ = [
    "InputError",
    "PalmaresError",
    "RunResult",
    "Score",
    "Scorer",
    "Task",
    "TaskSpec",
    "__version__",
    "load_task",
    "read_predictions",
    "score_predictions",
]
