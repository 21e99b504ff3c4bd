"""Evaluating a model on a task: requests, the response cache, the backend, then scoring.

The run asks the cache first and sends the backend only what it has not answered before, sorted
so that requests sharing a prefix are adjacent (prefix reuse in the model, in the server's
cache). Each answer is written to the cache the moment it arrives: a crash or a failing endpoint
loses nothing that was finished, and a rerun completes the run from there. Scoring is the same
as for a predictions file (``Scorer``), so model runs get the same intervals and slices.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from palmares.backends import Backend
from palmares.core import ItemSet, Predictions, StatisticsSpec, canonical_json, sha256_hex
from palmares.core.requests import (
    BackendError,
    GenerateRequest,
    LoglikRequest,
    Request,
    Response,
    request_key,
    response_from_json,
    response_to_json,
)
from palmares.engine.cache import ResponseCache
from palmares.engine.protocols import protocol_for
from palmares.engine.results import RunResult
from palmares.engine.scoring import Scorer
from palmares.tasks import Task

Progress = Callable[[int, int], None]


@dataclass
class RunStats:
    """How a run went: what the cache answered and what the model computed."""

    items: int = 0
    requests: int = 0  # distinct requests (identical items are asked once)
    cached: int = 0
    computed: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        rate = self.computed / self.seconds if self.seconds > 0 else None
        return {**self.__dict__, "computed_per_second": rate}


class RunFailed(BackendError):
    """The model failed part-way; what it had finished is in the cache."""


@dataclass
class ModelRun:
    """A model's answers on a split, before scoring: the items as the protocol scores them (a
    multiple-choice answer as an index, skipped items left out), their predictions, and what
    results.json says of the run (model identity, protocol, skipped items, run stats)."""

    split: str
    items: ItemSet
    predictions: Predictions
    extra: dict[str, Any]


def evaluate(
    task: Task,
    backend: Backend,
    *,
    split: str | None = None,
    limit: int | None = None,
    statistics: StatisticsSpec | None = None,
    cache: ResponseCache | None = None,
    progress: Progress | None = None,
    seed: int | None = None,
) -> RunResult:
    """Run ``backend`` on ``task`` (its first ``limit`` items if given) and score the answers.

    ``seed`` replaces the protocol's few-shot and sampling seeds (the bootstrap's is in
    ``statistics``).
    """
    run = run_model(
        task, backend, split=split, limit=limit, cache=cache, progress=progress, seed=seed
    )
    result = Scorer(task, run.split, statistics, items=run.items).score(run.predictions)
    result.extra = run.extra
    return result


def run_model(
    task: Task,
    backend: Backend,
    *,
    split: str | None = None,
    limit: int | None = None,
    cache: ResponseCache | None = None,
    progress: Progress | None = None,
    seed: int | None = None,
) -> ModelRun:
    """Ask ``backend`` for every item (the cache first) and turn its answers into predictions."""
    split = task.resolve_split(split)
    items = task.items(split)
    if limit is not None:
        items = items.head(limit)
    protocol = protocol_for(task, split, seed)
    reasons = [protocol.skip_reason(items, i) for i in range(len(items))]
    skipped = [{"id": items.ids[i], "reason": r} for i, r in enumerate(reasons) if r]
    if skipped:
        items = items.take([i for i, r in enumerate(reasons) if r is None])
    requests = protocol.requests(items)
    scored = protocol.scored_items(items)  # fail on a bad answer field before any model call
    identity = backend.identity()
    keys = [request_key(identity, r) for r in requests]
    unique = dict(zip(keys, requests, strict=True))  # identical requests are asked once
    stats = RunStats(items=len(items), requests=len(unique))
    answers: dict[str, Response] = {}
    if cache is not None:
        for key, data in cache.get_many(unique).items():
            answers[key] = response_from_json(unique[key], data)
    stats.cached = len(answers)
    todo = sorted((k for k in unique if k not in answers), key=lambda k: _order(unique[k]))
    started = time.perf_counter()
    if progress is not None:
        progress(stats.cached, stats.requests)

    def on_result(j: int, response: Any) -> None:
        key = todo[j]
        answers[key] = response
        if cache is not None:
            cache.put(key, response_to_json(response))
        stats.computed += 1
        if progress is not None:
            progress(stats.cached + stats.computed, stats.requests)

    try:
        _ask(backend, [unique[k] for k in todo], on_result)
    except BackendError as exc:
        kept = "kept in the response cache; rerun to resume" if cache else "lost (no cache)"
        raise RunFailed(
            f"{exc} — {stats.cached + stats.computed} of {stats.requests} requests finished, {kept}"
        ) from exc
    stats.seconds = time.perf_counter() - started
    values = [protocol.prediction(items, i, answers[k]) for i, k in enumerate(keys)]
    predictions = Predictions(
        values=values, digest=sha256_hex(canonical_json(values)), source=backend.label
    )
    extra = {
        "model": identity,
        "protocol": protocol.describe(),
        "limit": limit,
        "skipped": skipped,
        "run": stats.to_json(),
    }
    return ModelRun(split, scored, predictions, extra)


def _order(request: Request) -> str:
    """Sort key putting requests with a common prefix next to each other."""
    if isinstance(request, LoglikRequest):
        return request.context
    return request.prompt if request.prompt is not None else canonical_json(request.to_json())


def _ask(backend: Backend, requests: list[Request], on_result: Callable[[int, Any], None]) -> None:
    if not requests:
        return
    if all(isinstance(r, LoglikRequest) for r in requests):
        backend.loglikelihood([r for r in requests if isinstance(r, LoglikRequest)], on_result)
    else:
        backend.generate([r for r in requests if isinstance(r, GenerateRequest)], on_result)
