"""Scoring a submission on the hidden split, split Kaggle-style into a public and a private part.

Each hidden item belongs to the public part or the private part by a seeded hash of its id (a
fixed share, ``PUBLIC_SHARE``), the same for every submission: the public part is shown during the
phase, the private part decides the final ranking. Scores carry their intervals (``Scorer``).

Each part's scores come with their :class:`Evidence`, kept by the server only: the primary
metric's per-item scores (or per-item sufficient statistics, for a corpus metric) and its values
on ``REPLICATES`` bootstrap resamples of the part's items (fewer on very large parts:
:func:`replicates_for`). The resamples are drawn from a seed
fixed per campaign, task and part, so every submission is resampled with the same items: the
columns of replicates of several submissions are paired, which is what rank intervals and
pairwise tests need (``campaigns.significance``), without reading any item at view time.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from palmares.core import ItemSet, Predictions
from palmares.engine import RunResult, Scorer
from palmares.engine._prepare import metric_data
from palmares.metrics import CorpusMetric, MeanMetric
from palmares.store import CampaignTask
from palmares.tasks import Task, read_predictions

PUBLIC_SHARE = 0.5
#: bootstrap resamples of each part, shared by every submission of a task (see the module doc)
REPLICATES = 1000
#: at most this many item draws per part and submission (1–2 s): larger parts get fewer resamples
MAX_DRAWS = 100_000_000
_MAX_CELLS = 4_000_000  # bounds the (replicates × items) count matrix of one chunk


@dataclass(frozen=True)
class Evidence:
    """What the leaderboard's statistics and the Ladder need of one submission on one part.
    ``kind`` "mean": ``scores`` per item (NaN: outside the metric's denominator); "corpus":
    per-item sufficient statistics ``table[codes]``. Never shown to anyone."""

    metric: str
    kind: str
    items_digest: str
    n: int
    value: float | None
    replicates: NDArray[np.float64]
    scores: NDArray[np.float64] | None = None
    codes: NDArray[np.int64] | None = None
    table: NDArray[np.float64] | None = None

    def items_blob(self) -> bytes:
        """The per-item part as an ``.npz`` archive (no pickle)."""
        buffer = io.BytesIO()
        if self.kind == "mean":
            assert self.scores is not None
            np.savez_compressed(buffer, scores=self.scores)
        else:
            assert self.codes is not None and self.table is not None
            np.savez_compressed(buffer, codes=self.codes, table=self.table)
        return buffer.getvalue()

    def replicates_blob(self) -> bytes:
        return np.asarray(self.replicates, dtype="<f8").tobytes()


def read_replicates(blob: bytes) -> NDArray[np.float64]:
    return np.frombuffer(blob, dtype="<f8").astype(np.float64)


def read_item_scores(blob: bytes) -> NDArray[np.float64] | None:
    """The per-item scores of a mean metric's evidence (None for a corpus metric's)."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        return np.asarray(archive["scores"], dtype=np.float64) if "scores" in archive else None


def items_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()


def partition_seed(entry: CampaignTask) -> str:
    """The seed of a campaign task's public/private partition: its secret, random at creation
    (a task created before secrets existed keeps its old, guessable seed, so its scores stay)."""
    return entry.split_secret or f"{entry.campaign_id}:{entry.task_id}"


def public_positions(items: ItemSet, seed: str) -> list[int]:
    """Positions of the items in the public part (hash of seed and id below the share)."""
    cut = int(PUBLIC_SHARE * 2**32)
    return [
        i
        for i, item_id in enumerate(items.ids)
        if int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode()).digest()[:4], "big") < cut
    ]


def subset_predictions(predictions: Predictions, positions: list[int]) -> Predictions:
    values = predictions.values
    if isinstance(values, pa.Array):
        picked: Any = values.take(pa.array(positions, type=pa.int64()))
    else:
        picked = [values[i] for i in positions]
    probabilities = predictions.probabilities
    return Predictions(
        values=picked,
        probabilities=None if probabilities is None else [probabilities[i] for i in positions],
        digest=predictions.digest,
        source=predictions.source,
    )


def score_parts(
    task: Task, split: str, source: str | Predictions, seed: str, items: ItemSet | None = None
) -> dict[str, dict[str, Any]]:
    """``{"public": scores, "private": scores}`` of a predictions file, or of predictions a
    model made on ``items`` (the split's items as its protocol scores them), as in results.json."""
    return score_parts_with_evidence(task, split, source, seed, items)[0]


def score_parts_with_evidence(
    task: Task, split: str, source: str | Predictions, seed: str, items: ItemSet | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, Evidence | None]]:
    """The scores of :func:`score_parts`, and each part's :class:`Evidence` (None when the
    primary metric gives none: a per-class output, say)."""
    every = task.items(split) if items is None else items
    if isinstance(source, str):
        predictions = read_predictions(source, every, task.value_kind)
    else:
        predictions = source
    public = public_positions(every, seed)
    chosen = np.zeros(len(every), dtype=bool)
    chosen[public] = True
    private = np.flatnonzero(~chosen).tolist()
    out = {}
    evidence: dict[str, Evidence | None] = {}
    for name, positions in (("public", public), ("private", private)):
        part = Scorer(task, split, items=every.take(positions))
        chosen_predictions = subset_predictions(predictions, positions)
        result = part.score(chosen_predictions)
        out[name] = result.table.to_json()
        evidence[name] = part_evidence(part, chosen_predictions, result, f"{seed}:{name}")
    return out, evidence


def part_evidence(
    scorer: Scorer, predictions: Predictions, result: RunResult, seed: str
) -> Evidence | None:
    """The primary metric's evidence on the scorer's items (see :class:`Evidence`)."""
    task = scorer.task
    primary = task.spec.primary_metric
    if not scorer.metrics or len(scorer.items) == 0:
        return None
    metric = scorer.metrics[0]  # the task's first metric is its primary one
    score = result.table.scores.get(primary)
    value = None if score is None or not np.isfinite(score.value) else float(score.value)
    digest = items_digest(list(scorer.items.ids))
    n = len(scorer.items)
    statistic: Callable[[NDArray[np.float64]], NDArray[np.float64]]
    if isinstance(metric, MeanMetric):
        scores = result.item_scores.get(metric.label)
        if scores is None or score is None:
            return None
        scores = np.asarray(scores, dtype=np.float64)
        applies = np.isfinite(scores)
        table = np.column_stack([np.where(applies, scores, 0.0), applies.astype(np.float64)])
        statistic = _ratio
        extra: dict[str, Any] = {"kind": "mean", "scores": scores}
    elif isinstance(metric, CorpusMetric):
        data = metric_data(scorer._refs, predictions, scorer.kind, task.spec.language)
        outputs = metric.outputs(data)
        if primary not in outputs:
            return None
        column = outputs.index(primary)
        suff = metric.sufficient(data)
        table = np.asarray(suff.table, dtype=np.float64)[suff.codes]

        def statistic(totals: NDArray[np.float64]) -> NDArray[np.float64]:
            out: NDArray[np.float64] = np.asarray(metric.from_totals(totals, data))[:, column]
            return out

        extra = {"kind": "corpus", "codes": suff.codes, "table": suff.table}
    else:
        return None
    groups = scorer.items.groups
    clusters = None if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    key = (task.spec.statistics.seed, zlib.crc32(seed.encode("utf-8")))
    units = n if clusters is None else int(clusters.max()) + 1
    replicates = shared_replicates(table, statistic, clusters, key, replicates_for(units))
    return Evidence(primary, items_digest=digest, n=n, value=value, replicates=replicates, **extra)


def replicates_for(units: int) -> int:
    """Resamples of a part of ``units`` units: ``REPLICATES``, fewer above 100,000 units (so that
    a submission costs at most ``MAX_DRAWS`` draws), never fewer than 200. The same for every
    submission of a part."""
    return max(200, min(REPLICATES, MAX_DRAWS // max(units, 1)))


def _ratio(totals: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.divide(
        totals[:, 0],
        totals[:, 1],
        out=np.full(totals.shape[0], np.nan),
        where=totals[:, 1] > 0,
    )
    return out


def shared_replicates(
    table: NDArray[np.float64],
    statistic: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    clusters: NDArray[Any] | None,
    seed: tuple[int, ...],
    replicates: int,
) -> NDArray[np.float64]:
    """``statistic`` of the summed per-item ``table`` on ``replicates`` bootstrap resamples of
    the items (whole clusters when given). The draws depend on ``seed`` and the number of units
    only, never on the table: two submissions scored with the same seed are resampled with
    exactly the same items."""
    units = table
    if clusters is not None:
        units = np.zeros((int(clusters.max()) + 1, table.shape[1]))
        np.add.at(units, clusters, table)
    out = np.empty(replicates)
    for start, counts in resampling_counts(seed, units.shape[0], replicates):
        out[start : start + counts.shape[0]] = statistic(counts @ units)
    return out


def resampling_counts(
    seed: tuple[int, ...], units: int, replicates: int
) -> list[tuple[int, NDArray[np.float32]]]:
    """The bootstrap counts of ``units`` units in ``replicates`` resamples, in chunks
    ``(first replicate, counts (size, units))`` that bound memory; kept in memory for the next
    submission when they fit in one chunk (every submission of a part uses the same)."""
    step = max(1, min(replicates, _MAX_CELLS // max(units, 1)))
    if step == replicates:
        return [(0, _one_chunk(seed, units, replicates))]
    rng = np.random.default_rng(np.random.SeedSequence(list(seed)))
    return [
        (start, _chunk(rng, units, min(step, replicates - start)))
        for start in range(0, replicates, step)
    ]


@lru_cache(maxsize=4)  # at most 4 × 16 MB
def _one_chunk(seed: tuple[int, ...], units: int, replicates: int) -> NDArray[np.float32]:
    counts = _chunk(np.random.default_rng(np.random.SeedSequence(list(seed))), units, replicates)
    counts.flags.writeable = False
    return counts


def _chunk(rng: np.random.Generator, units: int, size: int) -> NDArray[np.float32]:
    """Counts of ``size`` resamples: ``units`` draws with replacement each, counted per row."""
    draws = rng.integers(0, units, size=(size, units))
    flat = (draws + np.arange(size)[:, None] * units).ravel()
    counts = np.bincount(flat, minlength=size * units).reshape(size, units)
    return counts.astype(np.float32)  # small integers: exact
