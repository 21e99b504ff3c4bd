"""Which differences on a leaderboard are real: the paired tests behind every verdict.

Every scored submission keeps, per part of the hidden split, its primary metric on the same
``REPLICATES`` (1,000; fewer above 100,000 items) bootstrap resamples of the part's items
(``scoring.Evidence``: the resamples are drawn from a seed fixed per campaign, task and part).
The replicates of the ranked submissions are therefore paired columns of one shared
resampling, and a leaderboard view needs nothing else — no item is read, nothing is drawn, the
result is the same on every view:

* :func:`comparable` reads the compared rows' exact values and replicates;
* :func:`pairwise_p_values`: every pair by a paired bootstrap z-test — the difference of the
  two exact values over the standard deviation of the paired replicate differences, two-sided
  normal p-value — then adjusted with Holm's step-down (``palmares.stats.adjust_pairs``);
* :func:`letter_display`: the significant pairs as compact letters.

``campaigns.verdicts`` turns them into what a board shows (rank, verdict, rank interval,
group: one rule, ``docs/campaigns.md``).

Why a z-test rather than the percentile p-value of ``palmares.stats.all_pairs``: a resampling
p-value cannot go below 2/(B + 1), and Holm multiplies the smallest one by the number of pairs
(k(k − 1)/2: 4,950 for 100 teams), so with B = 1,000 nothing could ever be significant on a
board of more than 7 teams. The z-test's p-value has no floor; the standard error it uses is
the bootstrap's own, so corpus metrics (F1, BLEU) are handled like means.

The letters come from :func:`letter_display`, a greedy clique cover of the "not significantly
different" graph in rank order (exact: sharing a letter ⇔ not significant), because
``palmares.stats.compact_letters`` (insert-and-absorb) takes minutes on 200 rows. Beyond 52
letters (a–z, A–Z), no groups are shown: the verdicts and rank intervals remain.
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
from palmares.store.models import ScoreEvidence

ALPHA = 0.05
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: how the columns were computed, for the API's readers
METHOD: dict[str, Any] = {
    "replicates": f"{REPLICATES} (fewer above 100,000 items, at least 200)",
    "resampling": "one bootstrap resampling of the part's items, the same for every submission "
    "(seeded per campaign, task and part; whole clusters when the task has a group field)",
    "rank": "competition ranking in the metric's direction (distance to its target when it has "
    "one): equal values share the best rank of their run, shown 3= (1, 2, 3=, 3=, 5)",
    "tests": "all pairs compared by a paired bootstrap z-test on the shared replicates, "
    f"Holm-corrected, alpha = {ALPHA}; a difference counts only in the order the board shows",
    "verdict": "best (rank 1); indistinguishable (no row significantly better); below k "
    "(significantly below the row ranked k, the lowest-ranked row significantly better)",
    "rank_interval": "[1 + rows significantly better, rows with a value - rows significantly "
    "worse]: the ranks the tests leave possible; it contains the rank, starts at 1 exactly "
    "when the verdict is best or indistinguishable",
    "group": "the same tests as letters: rows sharing a letter are not significantly different",
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


#: the rule's judgements (``campaigns.verdicts``) by a digest of what they depend on (the rows'
#: shown values, exact values and stored replicates): a board that has not changed since its
#: last view costs one read of its replicates
_COMPARED: dict[bytes, Any] = {}


def comparable(
    db: sessionmaker[Session], rows: list[dict[str, Any]], part: str
) -> tuple[list[int], NDArray[np.float64], NDArray[np.float64], bytes] | None:
    """The rows of a board that can be compared, from their stored evidence of ``part``: their
    indices, exact values ``(k,)``, paired replicates ``(B, k)`` and a digest of those; None
    when none can. A row is left out when it was scored before evidence was kept, has no value,
    or was scored on other items than most rows (another items digest or number of
    replicates). Only the stored replicates are read, never per-item data."""
    ids = [row["submission"] for row in rows]
    if not ids:
        return None
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
        return None
    digests = [u[1] for u in usable]
    # the items (and number of resamples) most rows were scored on
    common = max(sorted(set(digests)), key=digests.count)
    usable = [u for u in usable if u[1] == common]
    key = hashlib.sha256(repr([u[2] for u in usable]).encode())
    for u in usable:
        key.update(u[3].tobytes())
    return (
        [u[0] for u in usable],
        np.array([u[2] for u in usable]),
        np.column_stack([u[3] for u in usable]),
        key.digest(),
    )
