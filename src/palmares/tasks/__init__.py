"""Tasks: reading task YAML files, their datasets (through format loaders) and predictions files."""

from palmares.tasks._id_index import IdIndex
from palmares.tasks.loaders import Loader, LoaderRegistry, Rows, loader_registry
from palmares.tasks.predictions import read_predictions
from palmares.tasks.task import PROTOCOLS, Task, load_task

__all__ = [
    "PROTOCOLS",
    "IdIndex",
    "Loader",
    "LoaderRegistry",
    "Rows",
    "Task",
    "load_task",
    "loader_registry",
    "read_predictions",
]
