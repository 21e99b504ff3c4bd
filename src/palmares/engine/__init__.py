"""The engine: runs a task against a system (a predictions file or a model) and scores it."""

from palmares.engine.cache import ResponseCache, default_cache_path
from palmares.engine.evaluate import (
    ModelRun,
    RunFailed,
    RunStats,
    evaluate,
    run_model,
)
from palmares.engine.results import RunResult
from palmares.engine.scoring import Scorer, score_predictions

__all__ = [
    "ModelRun",
    "ResponseCache",
    "RunFailed",
    "RunResult",
    "RunStats",
    "Scorer",
    "default_cache_path",
    "evaluate",
    "run_model",
    "score_predictions",
]
