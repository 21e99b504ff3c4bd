"""One rule for every leaderboard: each row's rank, verdict, rank interval and group.

:func:`board_rule` sets them on a board's rows; the API, the pages and the snapshots all go
through it, so what a reader sees is the same everywhere (``docs/campaigns.md``, "Reading a
leaderboard").

* **Direction** (:func:`direction`): from the metric's metadata — higher is better (↑), lower
  is better (↓), or a **target** (``Metric.target``: CrowS-Pairs' stereotype score 0.5, BBQ's
  bias scores 0), ranked by the distance to it, smaller is better. Everything below works on a
  row's *goodness*: its value, minus its value, or minus its distance to the target.
* **Rank**: competition ranking of the shown values — equal values (to 12 significant digits)
  share the best rank of their run, shown ``3=``: 1, 2, 3=, 3=, 5. A row without a value
  ranks after every row with one.
* **Paired tests**: every pair of compared rows by the paired bootstrap z-test of
  ``campaigns.significance`` on the goodness of the stored replicates (one resampling shared by
  all rows), Holm-adjusted over all pairs, α = 5 %. A significant pair counts only in the
  direction the board shows (row *i* above row *j* on the shown values *and* on the exact ones):
  a board that shows released (Ladder) or rounded values never states a difference against its
  own order, and equal shown values are never significantly different.
* **Verdict**: ``best`` for the rows ranked 1; ``indistinguishable`` (not distinguishable from
  the best) when no row is significantly better; else ``below``, with ``below`` = the largest
  rank of the rows significantly better than it ("significantly below #k": every row it is
  significantly below ranks at most k, and the one ranked k is one of them).
* **Rank interval** ``[1 + #significantly better, m − #significantly worse]``, m the number of
  rows with a value: the ranks the tests leave possible (Klein, Wright & Wieczorek 2020, "A
  joint confidence region for an overall ranking of populations", JRSS C 69(3), with Holm's
  tests in place of Bonferroni's). It contains the shown rank by construction (a row
  significantly better is shown above), it starts at 1 exactly when the verdict is ``best`` or
  ``indistinguishable``, and it is {1} exactly when the row is significantly better than every
  other: all of them are then "significantly below #1".
* **Group** letters: the same significant pairs as a compact letter display (two rows share a
  letter exactly when their difference is not significant), so a row whose rank interval is
  {1} has a letter of its own.

Rows that cannot be compared (scored before evidence was kept, on other items, or without a
value) keep their rank and get no verdict, interval or group.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.significance import (
    _COMPARED,
    ALPHA,
    comparable,
    letter_display,
    pairwise_p_values,
)
from palmares.metrics import metric_registry
from palmares.stats import adjust_pairs

Better = Literal["higher", "lower", "target"]
Verdict = Literal["best", "indistinguishable", "below"]


@dataclass(frozen=True)
class Direction:
    """Which values are better: ``higher``, ``lower``, or closer to ``target``."""

    better: Better = "higher"
    target: float | None = None

    def goodness(self, values: ArrayLike) -> NDArray[np.float64]:
        """Larger is better: the values, their opposite, or minus their distance to the target
        (NaN stays NaN)."""
        v = np.asarray(values, dtype=np.float64)
        if self.better == "target":
            out: NDArray[np.float64] = -np.abs(v - float(self.target or 0.0))
            return out
        return v if self.better == "higher" else -v

    def as_dict(self) -> dict[str, Any]:
        symbol = {"higher": "↑", "lower": "↓", "target": "→"}[self.better]
        return {"better": self.better, "target": self.target, "symbol": symbol}


def direction(metric: str) -> Direction:
    """The direction of a metric named as in results (``ndcg@10``, ``f1[average=macro]``), from
    its class: ``target`` when it declares one, else ``higher_is_better``; unknown metrics are
    higher-is-better."""
    name = metric.split("@")[0].split("[")[0]
    if name not in metric_registry():
        return Direction("higher")
    cls = metric_registry().get(name)
    if cls.target is not None:
        return Direction("target", float(cls.target))
    return Direction("higher" if cls.higher_is_better else "lower")


def _tie_keys(goodness: NDArray[np.float64]) -> list[float]:
    """Goodness to 12 significant digits (float noise is no difference); no value: −inf."""
    return [float(f"{g:.12g}") if np.isfinite(g) else -np.inf for g in goodness]


def competition_ranks(goodness: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Competition ranks (1 = best; equal goodness shares the best rank of its run, NaN last)
    and whether each rank is shared."""
    keys = np.array(_tie_keys(np.asarray(goodness, dtype=np.float64)))
    ranks = np.array([1 + int(np.sum(keys > key)) for key in keys], dtype=np.int64)
    tied = np.array([int(np.sum(keys == key)) > 1 for key in keys], dtype=bool)
    return ranks, tied


def rank_label(rank: int, tied: bool) -> str:
    return f"{rank}=" if tied else str(rank)


def order_rows(rows: list[dict[str, Any]], way: Direction) -> list[dict[str, Any]]:
    """``rows`` sorted best first by ``value`` (None last; a stable sort: equal values keep
    the order they came in), with ``rank``, ``tied`` and ``rank_label`` set (in place)."""
    values = [np.nan if row.get("value") is None else float(row["value"]) for row in rows]
    keys = _tie_keys(way.goodness(values)) if rows else []
    order = sorted(range(len(rows)), key=lambda i: -keys[i])
    rows[:] = [rows[i] for i in order]
    ranks, tied = competition_ranks(way.goodness([values[i] for i in order]))
    for row, r, t in zip(rows, ranks, tied, strict=True):
        row["rank"], row["tied"], row["rank_label"] = int(r), bool(t), rank_label(int(r), bool(t))
    return rows


@dataclass(frozen=True)
class Judgement:
    """Per compared row (the order given): rank interval ``low``/``high``, ``verdict``,
    ``below`` (the k of "significantly below #k", else None), ``letters`` (None beyond 52)
    and ``above`` (``[i, j]``: row i is significantly better than row j, as shown)."""

    low: NDArray[np.int64]
    high: NDArray[np.int64]
    verdict: list[Verdict]
    below: list[int | None]
    letters: list[str] | None
    above: NDArray[np.bool_]


def judge(
    shown: NDArray[np.float64],
    exact: NDArray[np.float64],
    replicates: NDArray[np.float64],
    ranks: NDArray[np.int64],
    valued: int | None = None,
) -> Judgement:
    """The rule on k compared rows: ``shown`` and ``exact`` goodness ``(k,)``, the goodness of
    their paired replicates ``(B, k)``, their shown ``ranks`` on the whole board, and
    ``valued``, the number of rows of the board with a value (default k)."""
    k = exact.size
    valued = k if valued is None else valued
    adjusted = adjust_pairs(pairwise_p_values(exact, replicates), "holm")
    significant = adjusted < ALPHA
    np.fill_diagonal(significant, False)
    shown_keys = np.array(_tie_keys(shown))
    above = (
        significant
        & (shown_keys[:, None] > shown_keys[None, :])
        & (exact[:, None] > exact[None, :])
    )
    beaten_by = above.T  # [i, j]: row j is significantly better than row i
    low = (1 + beaten_by.sum(axis=1)).astype(np.int64)
    high = (valued - above.sum(axis=1)).astype(np.int64)
    verdict: list[Verdict] = []
    below: list[int | None] = []
    for i in range(k):
        if ranks[i] == 1:
            verdict.append("best")
            below.append(None)
        elif not beaten_by[i].any():
            verdict.append("indistinguishable")
            below.append(None)
        else:
            verdict.append("below")
            below.append(int(ranks[beaten_by[i]].max()))
    letters = letter_display(shown, above | above.T, True)
    return Judgement(low, high, verdict, below, letters, above)


def board_rule(
    db: sessionmaker[Session] | None,
    rows: list[dict[str, Any]],
    part: str,
    *,
    compare: bool = True,
) -> list[dict[str, Any]]:
    """The board's rule, on its rows (in place, and returned): sorted by the metric's direction,
    with ``rank``/``tied``/``rank_label``, and (``compare``, from the stored replicates of
    ``part``; only those are read, never per-item data) ``verdict``, ``below``,
    ``rank_interval`` and ``group`` — None on rows that cannot be compared."""
    if not rows:
        return rows
    way = direction(rows[0]["metric"])
    order_rows(rows, way)
    for row in rows:
        row["verdict"], row["below"], row["rank_interval"], row["group"] = None, None, None, None
    if not compare or db is None:
        return rows
    found = comparable(db, rows, part)
    if found is None:
        return rows
    indices, exact_values, replicates, digest = found
    shown = way.goodness([rows[i]["value"] for i in indices])
    ranks = np.array([rows[i]["rank"] for i in indices], dtype=np.int64)
    valued = sum(row.get("value") is not None for row in rows)
    key = hashlib.sha256(digest)
    key.update(repr((way, shown.tolist(), ranks.tolist(), valued)).encode())
    judged: Judgement | None = _COMPARED.get(key.digest())
    if judged is None:
        judged = judge(shown, way.goodness(exact_values), way.goodness(replicates), ranks, valued)
        _COMPARED[key.digest()] = judged
        while len(_COMPARED) > 64:  # oldest first: dicts keep insertion order
            _COMPARED.pop(next(iter(_COMPARED)))
    for j, i in enumerate(indices):
        row = rows[i]
        row["verdict"], row["below"] = judged.verdict[j], judged.below[j]
        row["rank_interval"] = [int(judged.low[j]), int(judged.high[j])]
        row["group"] = None if judged.letters is None else judged.letters[j]
    return rows
