"""Which differences on a leaderboard are real: rank intervals and significance groups.

Every scored submission keeps, per part of the hidden split, its primary metric on the same
``REPLICATES`` (1,000; fewer above 100,000 items) bootstrap resamples of the part's items
(``scoring.Evidence``: the resamples are drawn from a seed fixed per campaign, task and part).
The replicates of the ranked submissions are therefore paired columns of one shared
resampling, and a leaderboard view needs nothing else — no item is read, nothing is drawn, the
result is the same on every view:

* **rank interval** of each row: the 2.5 and 97.5 % percentiles (``lower``/``higher``) of its
  competition rank among the compared rows across the replicates — the bootstrap of ranks of
  ``palmares.stats.rank_intervals`` (Hall & Miller 2009);
* **group** letters: every pair compared by a paired bootstrap z-test — the difference of the
  two exact values over the standard deviation of the paired replicate differences, two-sided
  normal p-value — the p-values adjusted with Holm's step-down (``palmares.stats.adjust_pairs``),
  and the pairs with adjusted p < 0.05 shown as a compact letter display: two rows share a letter
  exactly when their difference is not significant.

The result is cached by a digest of the rows' values and replicates (the same board seen again
costs one read of its replicates).

Why a z-test rather than the percentile p-value of ``palmares.stats.all_pairs``: a resampling
p-value cannot go below 2/(B + 1), and Holm multiplies the smallest one by the number of pairs
(k(k − 1)/2: 4,950 for 100 teams), so with B = 1,000 nothing could ever be significant on a
board of more than 7 teams. The z-test's p-value has no floor; the standard error it uses is
the bootstrap's own, so corpus metrics (F1, BLEU) are handled like means.

The letters come from :func:`letter_display`, a greedy clique cover of the "not significantly
different" graph in rank order (exact: sharing a letter ⇔ not significant), because
``palmares.stats.compact_letters`` (insert-and-absorb) takes minutes on 200 rows. Beyond 52
letters (a–z, A–Z), no groups are shown: the rank intervals remain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.scoring import REPLICATES, read_replicates
from palmares.stats import adjust_pairs
from palmares.stats.ranks import rank
from palmares.store.models import ScoreEvidence

ALPHA = 0.05
CONFIDENCE = 0.95
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: how the columns were computed, for the API's readers
METHOD: dict[str, Any] = {
    "replicates": f"{REPLICATES} (fewer above 100,000 items, at least 200)",
    "resampling": "one bootstrap resampling of the part's items, the same for every submission "
    "(seeded per campaign, task and part; whole clusters when the task has a group field)",
    "rank_interval": f"{CONFIDENCE:.0%} percentile interval of each row's rank across the "
    "bootstrap replicates (1 = best)",
    "group": "all pairs compared by a paired bootstrap z-test, Holm-corrected, "
    f"alpha = {ALPHA}; rows sharing a letter are not significantly different",
    "alpha": ALPHA,
    "correction": "holm",
}


def pairwise_p_values(
    values: NDArray[np.float64], replicates: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Two-sided p-values ``(k, k)`` of the paired bootstrap z-test: ``|θ_i − θ_j|`` over the
    standard deviation of ``replicates[:, i] − replicates[:, j]`` (a difference with no spread
    at all is certain: p = 0, unless it is 0)."""
    k = values.size
    if k < 2:
        return np.ones((k, k))
    covariance = np.atleast_2d(np.cov(replicates, rowvar=False, ddof=1))
    spread = np.diag(covariance)
    variance = spread[:, None] + spread[None, :] - 2 * covariance
    sd = np.sqrt(np.maximum(variance, 0.0))
    difference = np.abs(values[:, None] - values[None, :])
    scale = np.maximum(np.abs(values[:, None]), np.abs(values[None, :]))
    tiny = sd <= 1e-12 * np.maximum(scale, 1.0)  # identical columns, up to rounding
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * norm.sf(difference / sd)
    p = np.where(tiny, np.where(difference > 0, 0.0, 1.0), p)
    np.fill_diagonal(p, 1.0)
    out: NDArray[np.float64] = p
    return out


def letter_display(
    values: Sequence[float] | NDArray[np.float64],
    significant: NDArray[np.bool_],
    higher_is_better: bool = True,
) -> list[str] | None:
    """Letters per row (input order): two rows share a letter exactly when ``significant``
    says their difference is not significant; letters are named by rank (the best row gets
    ``a``). None when more than 52 letters would be needed."""
    est = np.asarray(values, dtype=np.float64)
    k = est.size
    order = np.argsort(-est if higher_is_better else est, kind="stable")
    sig = np.asarray(significant, dtype=bool)
    sig = (sig | sig.T)[np.ix_(order, order)]  # by rank position from here on
    compatible = ~sig
    np.fill_diagonal(compatible, True)
    near = [
        int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little")
        for row in compatible
    ]
    covered = [1 << a for a in range(k)]
    cliques: list[int] = []
    for a in range(k):
        if near[a] == 1 << a:
            cliques.append(1 << a)  # different from every other row: a letter of its own
            continue
        todo = near[a] & ~covered[a]
        while todo:
            b = (todo & -todo).bit_length() - 1
            clique = (1 << a) | (1 << b)
            candidates = near[a] & near[b] & ~clique
            while candidates:  # grow by rank: the best-ranked compatible row first
                c = (candidates & -candidates).bit_length() - 1
                clique |= 1 << c
                candidates &= near[c] & ~(1 << c)
            for x in range(k):
                if clique >> x & 1:
                    covered[x] |= clique
            cliques.append(clique)
            todo = near[a] & ~covered[a]
    cliques = _absorbed(cliques)
    if len(cliques) > 2 * len(LETTERS):
        return None  # the sweep below removes memberships, rarely whole letters
    # sweep (as Piepho's): leave a letter where every pair it gives a row is given elsewhere
    for i in range(len(cliques)):
        for t in range(k):
            if not cliques[i] >> t & 1:
                continue
            elsewhere = 0
            for j, other in enumerate(cliques):
                if j != i and other >> t & 1:
                    elsewhere |= other
            others = cliques[i] & ~(1 << t)
            if elsewhere and others & ~elsewhere == 0:
                cliques[i] = others
    kept = sorted(
        _absorbed([c for c in cliques if c]), key=lambda c: [x for x in range(k) if c >> x & 1]
    )
    if len(kept) > len(LETTERS):
        return None
    by_position = ["".join(LETTERS[i] for i, c in enumerate(kept) if c >> p & 1) for p in range(k)]
    out = [""] * k
    for position, row in enumerate(order):
        out[row] = by_position[position]
    return out


def _absorbed(cliques: list[int]) -> list[int]:
    """Without duplicates and without any clique contained in another (first kept)."""
    out: list[int] = []
    for c in cliques:
        if c not in out and not any(o != c and c & o == c for o in cliques):
            out.append(c)
    return out


def compare(
    values: NDArray[np.float64],
    replicates: NDArray[np.float64],
    shown: NDArray[np.float64] | None = None,
    higher_is_better: bool = True,
) -> tuple[NDArray[np.int64], NDArray[np.int64], list[str] | None]:
    """Rank intervals ``(low, high)`` and group letters of k systems from their exact
    ``values`` ``(k,)`` and paired ``replicates`` ``(B, k)``; ``shown``: the values the board
    ranks by, which name the letters (default: ``values``)."""
    ranks = rank(replicates, higher_is_better)
    tail = (1 - CONFIDENCE) / 2
    low = np.quantile(ranks, tail, axis=0, method="lower").astype(np.int64)
    high = np.quantile(ranks, 1 - tail, axis=0, method="higher").astype(np.int64)
    adjusted = adjust_pairs(pairwise_p_values(values, replicates), "holm")
    significant = adjusted < ALPHA
    np.fill_diagonal(significant, False)
    letters = letter_display(values if shown is None else shown, significant, higher_is_better)
    return low, high, letters


#: results of :func:`compare` by a digest of what they depend on (the rows' values and stored
#: replicates): a board that has not changed since its last view costs one read of them
_COMPARED: dict[bytes, tuple[NDArray[np.int64], NDArray[np.int64], list[str] | None]] = {}


def annotate(
    db: sessionmaker[Session], rows: list[dict[str, Any]], part: str, higher_is_better: bool
) -> list[dict[str, Any]]:
    """Set ``rank_interval`` and ``group`` on ranked leaderboard rows (in place; None where a
    row cannot be compared: scored before evidence was kept, on other items, or a metric that
    could not be computed). Only the stored replicates are read, never per-item data."""
    for row in rows:
        row["rank_interval"], row["group"] = None, None
    ids = [row["submission"] for row in rows]
    if not ids:
        return rows
    with db() as session:
        found = session.execute(
            select(
                ScoreEvidence.submission_id,
                ScoreEvidence.items_digest,
                ScoreEvidence.value,
                ScoreEvidence.replicates,
            ).where(ScoreEvidence.part == part, ScoreEvidence.submission_id.in_(ids))
        ).all()
    evidence = {sid: (digest, value, blob) for sid, digest, value, blob in found}
    usable = []
    for i, row in enumerate(rows):
        got = evidence.get(row["submission"])
        if got is None or got[1] is None or row.get("value") is None:
            continue
        replicates = read_replicates(got[2])
        if replicates.size >= 2 and np.isfinite(replicates).all():
            usable.append((i, f"{got[0]}:{replicates.size}", float(got[1]), replicates))
    if not usable:
        return rows
    digests = [u[1] for u in usable]
    # the items (and number of resamples) most rows were scored on
    common = max(sorted(set(digests)), key=digests.count)
    usable = [u for u in usable if u[1] == common]
    shown = [float(rows[u[0]]["value"]) for u in usable]
    key = hashlib.sha256(repr((higher_is_better, shown, [u[2] for u in usable])).encode())
    for u in usable:
        key.update(u[3].tobytes())
    found_before = _COMPARED.get(key.digest())
    if found_before is None:
        values = np.array([u[2] for u in usable])
        replicates = np.column_stack([u[3] for u in usable])
        found_before = compare(values, replicates, np.array(shown), higher_is_better)
        _COMPARED[key.digest()] = found_before
        while len(_COMPARED) > 64:  # oldest first: dicts keep insertion order
            _COMPARED.pop(next(iter(_COMPARED)))
    low, high, letters = found_before
    for j, (i, *_rest) in enumerate(usable):
        rows[i]["rank_interval"] = [int(low[j]), int(high[j])]
        rows[i]["group"] = None if letters is None else letters[j]
    return rows
