"""Synthetic data with known truth, shared by the statistical tests and bench/coverage.py.

* accuracy: 0/1 scores, optionally with a per-item (or per-cluster) difficulty;
* macro-F1: a 3-class task, the true value computed from the expected confusion matrix (F1 is a
  ratio of cell totals, so the population value is the formula on the cell probabilities);
* chrF: per-item character n-gram statistics (hypothesis count, reference count, matches for
  n = 1..6, sacrebleu's column order) from a generator of sentence lengths and per-item quality;
  datasets are drawn with replacement from a large fixed population whose chrF is the truth.

Paired ("null") versions generate two systems exchangeably from the same item, so the true
difference is 0 and permutation tests are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from palmares.metrics.translation import chrf_from_stats

K = 3
CLASS_PROBS = np.array([0.5, 0.3, 0.2])
# P(prediction | reference): a decent but imperfect classifier
CONFUSION = np.array([[0.80, 0.12, 0.08], [0.15, 0.70, 0.15], [0.10, 0.20, 0.70]])


def macro_f1(totals: NDArray[np.float64]) -> NDArray[np.float64]:
    """Macro-F1 from summed one-hot (reference, prediction) cells ``(B, K²)``."""
    cells = totals.reshape(-1, K, K)  # [b, reference, prediction]
    tp = np.diagonal(cells, axis1=1, axis2=2)
    fp = cells.sum(axis=1) - tp
    fn = cells.sum(axis=2) - tp
    den = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, den, out=np.zeros_like(tp), where=den > 0)
    out: NDArray[np.float64] = f1.mean(axis=1)
    return out


CELL_PROBS = (CLASS_PROBS[:, None] * CONFUSION).ravel()
TRUE_MACRO_F1 = float(macro_f1(CELL_PROBS[None, :])[0])


def macro_f1_table(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """One-hot cell rows ``(n, K²)`` of n items."""
    return np.eye(K * K)[rng.choice(K * K, size=n, p=CELL_PROBS)]


def macro_f1_null_pair(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two exchangeable systems on the same references; each item has its own difficulty
    (a shared chance of following the confusion matrix rather than answering right)."""
    refs = rng.choice(K, size=n, p=CLASS_PROBS)
    hard = rng.random(n) < 0.5

    cum = np.cumsum(CONFUSION[refs], axis=1)

    def predict() -> NDArray[np.int64]:
        # inverse-CDF draw from each item's row of the confusion matrix
        follow = (rng.random(n)[:, None] < cum).argmax(axis=1)
        return np.where(hard | (rng.random(n) < 0.1), follow, refs)

    eye = np.eye(K * K)
    return eye[refs * K + predict()], eye[refs * K + predict()]


def chrf(totals: NDArray[np.float64]) -> NDArray[np.float64]:
    """sacrebleu's corpus chrF from summed statistics (the metric's own formula)."""
    return chrf_from_stats(totals)


def chrf_items(
    rng: np.random.Generator, n: int, quality: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Per-item chrF statistics ``(n, 18)``: sentence lengths around 60 characters, a hypothesis
    length within ±10 % of the reference, matches ~ Binomial(min(h, r), quality^order)."""
    ref_len = 15 + rng.poisson(45, n)
    hyp_len = np.maximum(5, np.round(ref_len * (1 + 0.1 * rng.standard_normal(n)))).astype(int)
    q = rng.beta(6, 3, n) if quality is None else quality
    out = np.empty((n, 18))
    for order in range(1, 7):
        h = np.maximum(hyp_len - order + 1, 0)
        r = np.maximum(ref_len - order + 1, 0)
        m = rng.binomial(np.minimum(h, r), q**order)
        out[:, 3 * (order - 1) : 3 * order] = np.column_stack([h, r, m])
    return out


@dataclass(frozen=True)
class Population:
    """A large fixed population of items; datasets are i.i.d. draws from it."""

    table: NDArray[np.float64]
    truth: float

    def draw(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        return self.table[rng.integers(0, self.table.shape[0], n)]


def chrf_population(size: int = 200_000, seed: int = 11) -> Population:
    table = chrf_items(np.random.default_rng(seed), size)
    return Population(table, float(chrf(table.sum(axis=0)[None, :])[0]))


def chrf_null_pair(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two exchangeable systems: a shared per-item quality, each system's own draw around it."""
    base = rng.beta(6, 3, n)
    qa = np.clip(base + 0.1 * rng.standard_normal(n), 0.01, 0.99)
    qb = np.clip(base + 0.1 * rng.standard_normal(n), 0.01, 0.99)
    ref_len = 15 + rng.poisson(45, n)
    hyp_a = np.maximum(5, np.round(ref_len * (1 + 0.1 * rng.standard_normal(n)))).astype(int)
    hyp_b = np.maximum(5, np.round(ref_len * (1 + 0.1 * rng.standard_normal(n)))).astype(int)
    tables = []
    for hyp, q in ((hyp_a, qa), (hyp_b, qb)):
        out = np.empty((n, 18))
        for order in range(1, 7):
            h = np.maximum(hyp - order + 1, 0)
            r = np.maximum(ref_len - order + 1, 0)
            out[:, 3 * (order - 1) : 3 * order] = np.column_stack(
                [h, r, rng.binomial(np.minimum(h, r), q**order)]
            )
        tables.append(out)
    return tables[0], tables[1]


def accuracy_null_pair(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two exchangeable systems: item difficulty p_i ~ Beta(2, 1), each right w.p. p_i."""
    p = rng.beta(2, 1, n)
    return (rng.random(n) < p).astype(float), (rng.random(n) < p).astype(float)


def continuous_null_pair(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two exchangeable systems with item scores in [0, 1] (token-F1-like), skewed."""
    base = rng.beta(2, 5, n)
    return (
        np.clip(base + 0.15 * rng.standard_normal(n), 0, 1),
        np.clip(base + 0.15 * rng.standard_normal(n), 0, 1),
    )


def clustered_accuracy(
    rng: np.random.Generator, n_clusters: int, size: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """0/1 scores in clusters of ``size`` items sharing p_c ~ Beta(2, 1) (truth: 2/3)."""
    p = rng.beta(2, 1, n_clusters)
    scores = (rng.random(n_clusters * size) < np.repeat(p, size)).astype(float)
    return scores, np.repeat(np.arange(n_clusters), size)


def band(sims: int, p: float, z: float = 3.5) -> tuple[float, float]:
    """Tolerance band for a simulated rate whose truth is ``p``: ``p ± z · sqrt(p(1−p)/sims)``
    (z = 3.5: a correct method fails one check in ~2,000)."""
    half = z * float(np.sqrt(p * (1 - p) / sims))
    return p - half, p + half
