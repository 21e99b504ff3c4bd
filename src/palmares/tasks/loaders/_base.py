"""Rows as loaded from a file, and the loader registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from palmares._plugins import filled_once
from palmares.core import DatasetSpec, InputError

ENTRY_POINT_GROUP = "palmares.loaders"


@dataclass(frozen=True)
class Rows:
    """A table as columns of Python values, with the file line of each row where known."""

    columns: dict[str, list[Any]]
    n: int
    source: str
    lines: list[int] | None = None

    def where(self, i: int) -> dict[str, Any]:
        """Location of row ``i`` for an :class:`InputError`: its line, or its row number."""
        if self.lines is not None:
            return {"file": self.source, "line": self.lines[i]}
        return {"file": f"{self.source} (row {i + 1})"}


Loader = Callable[[str, DatasetSpec], Rows]


class LoaderRegistry:
    def __init__(self) -> None:
        self._loaders: dict[str, Loader] = {}
        self._remote: set[str] = set()

    def add(self, fmt: str, loader: Loader, *, remote: bool = False) -> None:
        """``remote``: the loader resolves its locations itself (hub ids, URL prefixes, folders);
        otherwise a location is a file, relative to the task or a URL downloaded for it."""
        self._loaders[fmt] = loader
        if remote:
            self._remote.add(fmt)
        else:
            self._remote.discard(fmt)

    def is_remote(self, fmt: str) -> bool:
        return fmt in self._remote

    def names(self) -> list[str]:
        return sorted(self._loaders)

    def __contains__(self, fmt: object) -> bool:
        return fmt in self._loaders

    def get(self, fmt: str) -> Loader:
        try:
            return self._loaders[fmt]
        except KeyError:
            raise InputError(
                f"unknown format {fmt!r}; known formats: {', '.join(self.names())}",
                field="dataset.format",
            ) from None


#: The process-wide loader registry, filled from the ``palmares.loaders`` entry points.
loader_registry = filled_once(
    LoaderRegistry, ENTRY_POINT_GROUP, "palmares.tasks._builtins:register"
)


def columns_from_records(records: list[Any], source: str) -> dict[str, list[Any]]:
    """Records (dicts) → columns; a key absent from a record gives None there."""
    names: dict[str, None] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputError(f"row {i + 1} is not an object", file=source)
        names.update(dict.fromkeys(rec))
    return {name: [rec.get(name) for rec in records] for name in names}


def read_json_document(location: str) -> Any:
    """Parse a whole JSON file; bad encoding or syntax becomes an :class:`InputError`."""
    try:
        return json.loads(Path(location).read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8 text", file=location) from None
    except (ValueError, RecursionError) as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
        raise InputError(f"invalid JSON: {json_problem(exc)}", file=location, line=line) from None


def json_problem(exc: ValueError | RecursionError) -> str:
    """What ``json.loads`` found wrong. Besides syntax errors it raises a plain ValueError for a
    number of more than 4,300 digits, and RecursionError for arrays nested a few thousand deep."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
