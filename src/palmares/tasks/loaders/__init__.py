"""Dataset loaders: one module per file format, registered under entry point ``palmares.loaders``.

A loader is a callable ``load(location, spec) -> Rows``: ``location`` is a local path (already
resolved against the task file's folder) or, for remote formats, an identifier; ``spec`` is the
task's :class:`~palmares.core.DatasetSpec`. A plugin registers more formats with::

    [project.entry-points."palmares.loaders"]
    my_formats = "my_package.plugin:register"    # register(registry) → registry.add("fmt", load)
"""

from palmares.tasks.loaders._base import Loader, LoaderRegistry, Rows, loader_registry

__all__ = ["Loader", "LoaderRegistry", "Rows", "loader_registry"]
