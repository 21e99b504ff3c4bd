"""Ranking: recall@k, MRR, nDCG@k — means of a per-query score.

``refs[i]`` maps document ids to graded relevance; a document is *relevant* when its relevance is
> 0 (ids with relevance ≤ 0 and ids absent from the reference are not). Conventions:

* ``k`` (an option in the task YAML) is the cutoff: only the first ``k`` positions count. It is
  required by recall and nDCG, optional for MRR (no cutoff without it).
* A ranked list may repeat an id: only its first occurrence counts; a later occurrence keeps its
  position in the list (it still takes one of the ``k`` slots) but earns nothing.
* A query with no relevant document scores 0 on every metric (as scikit-learn's ``ndcg_score``).
* nDCG uses linear gain (gain = relevance, as scikit-learn's ``ndcg_score`` and trec_eval's
  ``ndcg_cut``) and the discount log2(rank + 1); the ideal DCG ranks the reference's relevant
  documents by decreasing relevance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from palmares.core import InputError, ValueKind
from palmares.metrics._base import MeanMetric
from palmares.metrics._data import RankingData


def _first_occurrences(ranked: list[str], k: int | None) -> list[tuple[int, str]]:
    """``(rank, id)`` (rank from 1) of the first occurrence of each id in the top ``k``."""
    seen: set[str] = set()
    out: list[tuple[int, str]] = []
    for rank, doc in enumerate(ranked[:k] if k is not None else ranked, start=1):
        if doc not in seen:
            seen.add(doc)
            out.append((rank, doc))
    return out


class _RankingMetric(MeanMetric[RankingData]):
    kind = ValueKind.RANKING
    option_names = ("k",)
    requires_k: bool = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        k = options.get("k")
        if k is None:
            if self.requires_k:
                raise InputError(
                    f"metric {self.name!r} needs a cutoff k (write it as {self.name}@10, "
                    "or give the option k: 10)",
                    field="metrics",
                )
        elif isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(
                f"metric {self.name!r}: k must be a positive integer, not {k!r}", field="metrics"
            )
        self.k: int | None = k

    def item_scores(self, data: RankingData) -> NDArray[np.float64]:
        if len(data.refs) != len(data.preds):
            raise InputError(
                f"{len(data.refs)} reference rankings but {len(data.preds)} predicted ones"
            )
        scores = [
            self._score(rel, ranked) for rel, ranked in zip(data.refs, data.preds, strict=True)
        ]
        return np.asarray(scores, dtype=np.float64)

    def _score(self, relevance: dict[str, float], ranked: list[str]) -> float:
        raise NotImplementedError


class Recall(_RankingMetric):
    name = "recall"
    description = "share of the relevant documents retrieved in the top k"

    def _score(self, relevance: dict[str, float], ranked: list[str]) -> float:
        relevant = {doc for doc, rel in relevance.items() if rel > 0}
        if not relevant:
            return 0.0
        found = sum(doc in relevant for _, doc in _first_occurrences(ranked, self.k))
        return found / len(relevant)


class MRR(_RankingMetric):
    name = "mrr"
    requires_k = False
    description = "mean reciprocal rank of the first relevant document (0 if none, within k if set)"

    def _score(self, relevance: dict[str, float], ranked: list[str]) -> float:
        for rank, doc in _first_occurrences(ranked, self.k):
            if relevance.get(doc, 0.0) > 0:
                return 1.0 / rank
        return 0.0


class NDCG(_RankingMetric):
    name = "ndcg"
    description = "normalised discounted cumulative gain in the top k (gain = graded relevance)"

    def _score(self, relevance: dict[str, float], ranked: list[str]) -> float:
        assert self.k is not None  # checked in __init__
        ideal = sorted((rel for rel in relevance.values() if rel > 0), reverse=True)[: self.k]
        if not ideal:
            return 0.0
        idcg = float(np.sum(np.asarray(ideal) / np.log2(np.arange(2, len(ideal) + 2))))
        hits = [
            (rank, relevance[doc])
            for rank, doc in _first_occurrences(ranked, self.k)
            if relevance.get(doc, 0.0) > 0
        ]
        dcg = sum(rel / float(np.log2(rank + 1)) for rank, rel in hits)
        return dcg / idcg


METRICS: list[type] = [Recall, MRR, NDCG]
