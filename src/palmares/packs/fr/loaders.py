"""The pack's dataset formats: the generated tasks' ``calcul-fr``, ``dates-fr`` and
``unites-fr`` (below), and for the tasks on public data ``bbq``
(:mod:`~palmares.packs.fr.bias`), ``sacrebleu`` (:mod:`~palmares.packs.fr.wmt`), ``rte3-fr`` and
``allocine``, ``okapi`` (:mod:`~palmares.packs.fr.labels`).

A task of these formats names, for each split, a small JSON *recipe* instead of a data file::

    dataset:
      splits: {dev: dev.json, test: test.json}
      format: calcul-fr

    # test.json                         # dev.json
    {"seed": 20250101, "n": 200}        {"seed": 20250102, "n": 20, "exclude": "test.json"}

``seed`` is an integer ≥ 0 (as large as wanted) and ``n`` the number of items (1 to 5,000).
``exclude`` (optional) names another recipe, relative to this one, whose questions this split
never asks: the few-shot split's recipe excludes ``test.json``, so that an example never
repeats a test item, whatever the test seed.

The loader generates the items: the same recipe always gives byte-identical items, another seed
other items, and the dataset hash (hence the task hash) follows the items. A campaign gets fresh
items by copying the task folder and writing its own, secret seed in ``test.json``: anyone who
knows a seed can regenerate the answers, so the seeds shipped here are public.

Registered through the entry point group ``palmares.loaders``::

    [project.entry-points."palmares.loaders"]
    fr = "palmares.packs.fr.loaders:register"
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from palmares.core import DatasetSpec, InputError
from palmares.packs.fr import bias, calcul, dates, labels, unites, wmt
from palmares.packs.fr._generation import MAX_ITEMS
from palmares.tasks.loaders import Loader, LoaderRegistry, Rows
from palmares.tasks.loaders._base import json_problem

Generator = Callable[[int, int, Collection[str]], list[dict[str, Any]]]

#: format name → generator
GENERATORS: dict[str, Generator] = {
    calcul.NAME: calcul.generate,
    dates.NAME: dates.generate,
    unites.NAME: unites.generate,
}


def read_recipe(location: str) -> tuple[int, int, str | None]:
    """``(seed, n, exclude)`` from a recipe file (``exclude`` resolved against its folder); a
    bad file raises :class:`InputError` naming it."""
    try:
        doc = json.loads(Path(location).read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise InputError("recipe file not found", file=location) from None
    except OSError as exc:  # a folder (exclude: "."), no permission
        raise InputError(f"cannot read the recipe: {exc.strerror}", file=location) from None
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8 text", file=location) from None
    except (ValueError, RecursionError) as exc:  # syntax, a 5,000-digit number, a nesting bomb
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
        raise InputError(f"invalid JSON: {json_problem(exc)}", file=location, line=line) from None
    if not isinstance(doc, dict):
        raise InputError('a recipe is a JSON object: {"seed": 1, "n": 200}', file=location)
    unknown = sorted(set(doc) - {"seed", "n", "exclude"})
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} (a recipe has seed, n and optionally exclude)",
            file=location,
        )
    for key in ("seed", "n"):
        value = doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"required: an integer, got {value!r}", file=location, field=key)
    seed, n, exclude = doc["seed"], doc["n"], doc.get("exclude")
    if seed < 0:
        raise InputError(f"the seed is an integer ≥ 0, got {seed}", file=location, field="seed")
    if not 1 <= n <= MAX_ITEMS:
        raise InputError(f"n is between 1 and {MAX_ITEMS:,}, got {n}", file=location, field="n")
    if exclude is not None:
        if not isinstance(exclude, str) or not exclude:
            raise InputError(
                f"the name of another recipe file, got {exclude!r}", file=location, field="exclude"
            )
        other = Path(location).parent / exclude
        try:
            itself = other.resolve() == Path(location).resolve()
        except (OSError, ValueError):  # a NUL byte, a name too long for the file system
            raise InputError(
                f"not a usable file name: {exclude!r}", file=location, field="exclude"
            ) from None
        if itself:
            raise InputError("a recipe cannot exclude itself", file=location, field="exclude")
        exclude = str(other)
    return seed, n, exclude


def rows_from_records(records: list[dict[str, Any]], source: str) -> Rows:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = {name: [record.get(name) for record in records] for name in names}
    return Rows(columns, len(records), source)


def generate(generator: Generator, location: str) -> list[dict[str, Any]]:
    """The records a recipe file describes."""
    seed, n, exclude = read_recipe(location)
    excluded: set[str] = set()
    if exclude is not None:
        other_seed, other_n, further = read_recipe(exclude)
        if further is not None:
            raise InputError(
                "an excluded recipe may not exclude another one in turn",
                file=exclude,
                field="exclude",
            )
        excluded = {r["question"] for r in generator(other_seed, other_n, ())}
    try:
        return generator(seed, n, excluded)
    except ValueError as exc:
        raise InputError(str(exc), file=location, field="n") from None


def loader(generator: Generator) -> Loader:
    """The loader of one generator: recipe file → generated rows."""

    def load(location: str, spec: DatasetSpec) -> Rows:
        return rows_from_records(generate(generator, location), location)

    return load


def register(registry: LoaderRegistry) -> None:
    for name, generator in GENERATORS.items():
        registry.add(name, loader(generator))
    registry.add(bias.NAME, bias.load, remote=True)  # a folder or a URL prefix
    registry.add(wmt.NAME, wmt.load, remote=True)  # a sacrebleu test set name
    for name in labels.LABEL_WORDS:
        registry.add(name, labels.loader(name))
    registry.add("okapi", labels.load_okapi)
