"""The engine: runs a task against a system (here: a predictions file) and scores it."""

from palmares.engine.results import RunResult
from palmares.engine.scoring import Scorer, score_predictions

__all__ = ["RunResult", "Scorer", "score_predictions"]
