"""The demo's systems: a real model (Gemma 3 270M, zero-shot and few-shot) run in-process, and
the baselines every leaderboard needs to be read (random, majority, first choice). Each writes a
predictions file, as a participant running models on their own machine would."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from palmares.backends import load_model
from palmares.core.protocols import MultipleChoiceSpec
from palmares.engine import run_model
from palmares.engine.cache import ResponseCache
from palmares.tasks import Task


def few_shot_variant(task_yaml: Path, folder: Path, split: str, n: int) -> Path:
    """A copy of the task that puts ``n`` examples of ``split`` before each question (the
    system's choice, not the task's: the campaign scores both runs on the same items)."""
    spec = yaml.safe_load(task_yaml.read_text("utf-8"))
    spec["dataset"]["splits"] = {
        name: str((task_yaml.parent / path).resolve())
        for name, path in spec["dataset"]["splits"].items()
    }
    spec["protocol"]["fewshot"] = {"split": split, "n": n, "seed": 1234}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _write(path: Path, rows: Iterator[tuple[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for item_id, prediction in rows:
            fh.write(json.dumps({"id": item_id, "prediction": prediction}, ensure_ascii=False))
            fh.write("\n")
    return path


def model_predictions(
    task: Task,
    model: Path,
    split: str,
    out: Path,
    cache: ResponseCache,
    progress: Callable[[int, int], None],
) -> Path:
    """Run the GGUF model on ``split`` and write its answers as a predictions file."""
    backend = load_model(f"llama:{model}")
    try:
        run = run_model(task, backend, split=split, cache=cache, progress=progress)
    finally:
        backend.close()
    values = run.predictions.values
    answers = values.to_pylist() if hasattr(values, "to_pylist") else list(values)
    return _write(out, zip(run.items.ids, answers, strict=True))


def _choices(task: Task, split: str) -> tuple[list[str], list[int], list[int]]:
    """Ids, number of choices and right answers of a multiple-choice split."""
    protocol = task.protocol
    assert isinstance(protocol, MultipleChoiceSpec) and protocol.choices_field is not None
    items = task.items(split)
    widths = [len(choices) for choices in items.inputs[protocol.choices_field]]
    # an answer may carry metric fields beside it (BBQ's roles): {"answer": i, ...}
    answers = [r["answer"] if isinstance(r, dict) else r for r in items.references]
    return list(items.ids), widths, [int(a) for a in answers]


def baseline_predictions(task: Task, split: str, train: str, kind: str, out: Path) -> Path:
    """``random`` (seeded), ``majority`` (the answer position most often right on ``train``)
    or ``first`` (always the first choice), as chosen indices."""
    ids, widths, _ = _choices(task, split)
    if kind == "random":
        draw = random.Random(20261126)
        picks = [draw.randrange(w) for w in widths]
    elif kind == "majority":
        _, _, train_answers = _choices(task, train)
        most = Counter(train_answers).most_common(1)[0][0]
        picks = [min(most, w - 1) for w in widths]
    elif kind == "first":
        picks = [0] * len(ids)
    else:
        raise ValueError(f"unknown baseline {kind!r}")
    return _write(out, zip(ids, picks, strict=True))


@contextmanager
def opened_cache(path: Path | None) -> Iterator[ResponseCache]:
    from palmares.engine.cache import default_cache_path

    cache = ResponseCache(path or default_cache_path())
    try:
        yield cache
    finally:
        cache.close()
