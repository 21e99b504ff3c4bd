"""Scoring: metric values with confidence intervals, overall and per slice."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from palmares._version import __version__
from palmares.core import (
    InputError,
    ItemSet,
    Predictions,
    Score,
    ScoreTable,
    StatisticsSpec,
    ValueKind,
)
from palmares.engine._prepare import metric_data, prepare_references
from palmares.engine.protocols import protocol_for
from palmares.engine.results import RunResult
from palmares.metrics import CorpusMetric, MeanMetric, Metric, MetricData
from palmares.stats import Sufficient, bootstrap_totals, mean_interval, percentile_interval
from palmares.tasks import IdIndex, Task, items_hash, read_predictions


@dataclass(frozen=True)
class _Subset:
    """The items a score is computed on: all of them, or one slice value."""

    field: str | None  # None: every item
    value: str
    positions: NDArray[np.int64] | None
    clusters: NDArray[np.int64] | None
    n: int

    @property
    def key(self) -> str:
        return "" if self.field is None else f"{self.field}={self.value}"


class Scorer:
    """Scores predictions against one split of a task.

    Built once per task split (it loads the items and converts the references), then scores any
    number of predictions files: that is how the campaign server uses it.
    """

    def __init__(
        self,
        task: Task,
        split: str | None = None,
        statistics: StatisticsSpec | None = None,
        items: ItemSet | None = None,
    ) -> None:
        """``items`` replaces the split's items (a model run's first N, with references as its
        protocol scores them)."""
        self.task = task
        self.split = task.resolve_split(split)
        self.statistics = statistics or task.spec.statistics
        if items is None:
            items = task.items(self.split)
            if task.value_kind is ValueKind.CHOICE:  # answers as letters or texts → indices
                items = protocol_for(task, self.split).scored_items(items)
        self.items: ItemSet = items
        self.kind = task.value_kind
        self.metrics = task.metrics()
        self._refs = prepare_references(self.items, self.kind)
        self._index = IdIndex(pa.array(self.items.ids, type=pa.string()))
        self._clusters = _codes(self.items.groups) if self.items.groups is not None else None
        self._subsets = [_Subset(None, "", None, self._clusters, len(self.items))]
        for name, values in self.items.slices.items():
            array = np.asarray(values, dtype=object)
            for value in sorted(set(values)):
                positions = np.flatnonzero(array == value)
                clusters = None if self._clusters is None else self._clusters[positions]
                self._subsets.append(_Subset(name, value, positions, clusters, int(positions.size)))
        # provenance hashes are part of preparing the task, not of scoring each file
        self._task_hash = task.hash
        self._dataset_hash = (
            task.dataset_hash(self.split) if items is None else items_hash(self.items)
        )

    def read(self, path: str) -> Predictions:
        return read_predictions(path, self.items, self.kind, index=self._index)

    def score_file(self, path: str) -> RunResult:
        return self.score(self.read(path))

    def score(self, predictions: Predictions) -> RunResult:
        if any(m.needs_probabilities for m in self.metrics) and predictions.probabilities is None:
            names = ", ".join(m.label for m in self.metrics if m.needs_probabilities)
            raise InputError(
                f"metrics {names} need probabilities; the file gives none",
                file=predictions.source,
                field="probabilities",
            )
        data = metric_data(self._refs, predictions, self.kind, self.task.spec.language)
        table = ScoreTable()
        item_scores: dict[str, NDArray[np.float64]] = {}
        memo: dict[tuple[Any, ...], tuple[Sufficient, NDArray[np.int64]]] = {}
        for metric in self.metrics:
            per_item = metric.item_scores(data)
            if per_item is not None:
                item_scores[metric.label] = per_item
            for subset in self._subsets:
                suff = None
                if isinstance(metric, CorpusMetric):
                    suff = self._sufficient(metric, data, subset, memo)
                scores = self._score(metric, data, per_item, suff, subset)
                if subset.field is None:
                    table.scores.update(scores)
                else:
                    by_value = table.slices.setdefault(subset.field, {})
                    by_value.setdefault(subset.value, {}).update(scores)
        return RunResult(
            task={
                "id": self.task.spec.id,
                "version": self.task.spec.version,
                "hash": self._task_hash,
            },
            split=self.split,
            dataset_hash=self._dataset_hash,
            predictions_hash=predictions.digest,
            palmares_version=__version__,
            statistics=self.statistics.model_dump(),
            table=table,
            ids=self.items.ids,
            predictions=predictions.values,
            item_scores=item_scores,
        )

    @staticmethod
    def _sufficient(
        metric: CorpusMetric[Any],
        data: MetricData,
        subset: _Subset,
        memo: dict[tuple[Any, ...], tuple[Sufficient, NDArray[np.int64]]],
    ) -> tuple[Sufficient, NDArray[np.int64]]:
        """Statistics and counts of a subset; shared by metrics with the same statistics (F1 and
        MCC both count confusion cells), so each is computed once per file."""
        family = metric.statistics_key()
        if (*family, "") not in memo:
            whole = metric.sufficient(data)
            memo[(*family, "")] = (whole, whole.counts())
        if (*family, subset.key) not in memo:
            whole = memo[(*family, "")][0]
            assert subset.positions is not None
            part = whole.subset(subset.positions)
            memo[(*family, subset.key)] = (part, part.counts())
        return memo[(*family, subset.key)]

    def _score(
        self,
        metric: Metric[Any],
        data: MetricData,
        per_item: NDArray[np.float64] | None,
        suff: tuple[Sufficient, NDArray[np.int64]] | None,
        subset: _Subset,
    ) -> dict[str, Score]:
        conf = self.statistics.confidence
        if isinstance(metric, MeanMetric):
            assert per_item is not None
            values = per_item if subset.positions is None else per_item[subset.positions]
            clusters = subset.clusters
            applies = ~np.isnan(values)
            if not applies.all():  # NaN: the item is outside this metric's denominator
                values = values[applies]
                clusters = None if clusters is None else clusters[applies]
            ci, method = mean_interval(values, clusters, conf)
            value = float(values.mean()) if values.size else float("nan")
            return {metric.label: Score(value, ci, int(values.size), method, conf)}
        assert isinstance(metric, CorpusMetric) and suff is not None
        stats, counts = suff
        point = metric.from_totals(stats.totals(counts), data)[0]
        rng = np.random.default_rng(
            np.random.SeedSequence(
                self.statistics.seed, spawn_key=(_stable(metric.label), _stable(subset.key))
            )
        )
        boot = metric.from_totals(
            bootstrap_totals(stats, self.statistics.bootstrap, rng, subset.clusters, counts), data
        )
        intervals = percentile_interval(boot, conf)
        method = "bootstrap-percentile"
        if subset.clusters is not None:
            method = "cluster-" + method
        return {
            name: Score(
                float(point[j]),
                (float(intervals[j, 0]), float(intervals[j, 1])),
                subset.n,
                method,
                conf,
            )
            for j, name in enumerate(metric.outputs(data))
        }


def _codes(values: list[str]) -> NDArray[np.int64]:
    _, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    return codes.astype(np.int64)


def _stable(text: str) -> int:
    """A stable small integer for a name (Python's hash() is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def score_predictions(
    task: str | Task,
    predictions: str,
    split: str | None = None,
    statistics: StatisticsSpec | None = None,
) -> RunResult:
    """Score one predictions file against one split of a task (library entry point)."""
    from palmares.tasks import load_task

    task_obj = load_task(task) if isinstance(task, str) else task
    return Scorer(task_obj, split, statistics).score_file(predictions)
