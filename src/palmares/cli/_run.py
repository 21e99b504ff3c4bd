"""Running a model from the CLI: backend options, the cache, a progress bar with items/s."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from palmares.backends import load_model
from palmares.cli._render import console
from palmares.core import InputError, StatisticsSpec
from palmares.engine import RunResult, evaluate
from palmares.engine.cache import ResponseCache, default_cache_path
from palmares.tasks import Task


def parse_model_args(args: tuple[str, ...]) -> dict[str, str]:
    options: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got {arg!r}", field="model-arg")
        options[key.strip()] = value.strip()
    return options


def run_model(
    task: Task,
    model: str,
    model_args: tuple[str, ...],
    split: str | None,
    limit: int | None,
    statistics: StatisticsSpec,
    cache_path: str | None,
    no_cache: bool,
    seed: int | None = None,
) -> RunResult:
    backend = load_model(model, parse_model_args(model_args))
    cache = None if no_cache else ResponseCache(cache_path or default_cache_path())
    columns = (
        TextColumn("Scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("· {task.fields[rate]} items/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console(), transient=False) as bar:
            job = bar.add_task("run", total=None, rate="—")
            first: list[int] = []

            def progress(done: int, total: int) -> None:
                if not first:
                    first.append(done)  # answers from the cache: not part of the rate
                bar.update(job, completed=done, total=total)
                elapsed = bar.tasks[job].elapsed or 0.0
                if elapsed > 0 and done > first[0]:
                    bar.update(job, rate=f"{(done - first[0]) / elapsed:.1f}")

            return evaluate(
                task,
                backend,
                split=split,
                limit=limit,
                statistics=statistics,
                cache=cache,
                progress=progress,
                seed=seed,
            )
    finally:
        backend.close()
        if cache is not None:
            cache.close()
