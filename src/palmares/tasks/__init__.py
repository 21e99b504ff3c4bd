"""Tasks: reading task YAML files, their datasets (through format loaders) and predictions files."""

from palmares.tasks._id_index import IdIndex
from palmares.tasks._items_hash import items_hash
from palmares.tasks._protocol import template_environment
from palmares.tasks._sources import DATA_DIR_ENV, SourceUnreachable, fetch, is_url
from palmares.tasks.loaders import Loader, LoaderRegistry, Rows, loader_registry
from palmares.tasks.predictions import read_predictions
from palmares.tasks.task import PROTOCOLS, DataSource, Task, load_task

__all__ = [
    "DATA_DIR_ENV",
    "PROTOCOLS",
    "DataSource",
    "IdIndex",
    "Loader",
    "LoaderRegistry",
    "Rows",
    "SourceUnreachable",
    "Task",
    "fetch",
    "is_url",
    "items_hash",
    "load_task",
    "loader_registry",
    "read_predictions",
    "template_environment",
]
