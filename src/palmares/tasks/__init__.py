"""Tasks: reading task YAML files, their datasets (through format loaders) and predictions files."""

from palmares.tasks._id_index import IdIndex
from palmares.tasks._items_hash import items_hash
from palmares.tasks._protocol import template_environment
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
    "items_hash",
    "load_task",
    "loader_registry",
    "read_predictions",
    "template_environment",
]
