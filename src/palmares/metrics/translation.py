"""Translation: chrF and BLEU, exactly as sacrebleu computes them with its defaults.

The corpus value equals ``sacrebleu.corpus_chrf(preds, streams)`` / ``sacrebleu.corpus_bleu(...)``
(0–100 scale; BLEU with the ``13a`` tokeniser whatever the language, ``exp`` smoothing, mixed
case; chrF with character order 6, no word n-grams, β = 2). The per-segment statistics come from
sacrebleu itself (``Metric._extract_corpus_statistics``), so tokenisation, n-gram matching and the
choice among several references are sacrebleu's; only the last step, corpus score from summed
statistics, is re-implemented here in numpy so that the bootstrap can score 1,000 resamples at
once. It mirrors ``BLEU.compute_bleu`` and ``CHRF._compute_f_score`` operation by operation.

Statistics per segment (columns of ``sufficient().table``):

* BLEU, 10 columns: hypothesis length, closest reference length, matched n-grams for n = 1..4,
  hypothesis n-grams for n = 1..4.
* chrF, 18 columns: for character n-grams n = 1..6, (hypothesis count, reference count, matches),
  taken from the reference with the best sentence-level chrF.

Several references: ``refs[i]`` lists the acceptable translations of item ``i``. sacrebleu takes
reference *streams* (stream ``j`` holds every segment's ``j``-th reference) and drops ``None``
entries segment by segment, so items with fewer references are padded with ``None`` (an empty
string would count as a real, empty reference). An item without any reference is an error.

Item scores (``items.jsonl``) are sentence-level scores as ``sacrebleu.sentence_chrf`` /
``sacrebleu.sentence_bleu`` give them (the latter uses effective n-gram order).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF

from palmares.core import InputError, ValueKind
from palmares.metrics._base import CorpusMetric
from palmares.metrics._data import TextData
from palmares.stats import Sufficient

_BLEU_ORDER = 4
_LOG_FLOOR = -9999999999.0  # sacrebleu.utils.my_log(0)


def reference_streams(refs: list[list[str]]) -> list[list[str | None]]:
    """sacrebleu's reference streams, padded with ``None`` where an item has fewer references.

    >>> reference_streams([["a", "b"], ["c"]])
    [['a', 'c'], ['b', None]]
    """
    for i, item_refs in enumerate(refs):
        if not item_refs:
            raise InputError(f"item {i} has no reference translation")
    width = max((len(r) for r in refs), default=0)
    return [[r[j] if j < len(r) else None for r in refs] for j in range(width)]


class _Sacre(CorpusMetric[TextData]):
    """A sacrebleu metric: statistics from sacrebleu, corpus score vectorised over rows."""

    kind = ValueKind.TEXT
    n_stats: ClassVar[int]

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # The statistics of the last data seen: the engine asks for sufficient() and
        # item_scores() on the same data, and extracting them is the slow part.
        self._cache: tuple[TextData, NDArray[np.float64]] | None = None

    def _sacrebleu(self) -> Any:
        raise NotImplementedError

    def statistics(self, data: TextData) -> NDArray[np.float64]:
        """Per-segment statistics, shape ``(n, n_stats)``, extracted by sacrebleu."""
        if self._cache is not None and self._cache[0] is data:
            return self._cache[1]
        if len(data.refs) != len(data.preds):
            raise InputError(
                f"{len(data.preds)} predictions for {len(data.refs)} items with references"
            )
        streams = reference_streams(data.refs)
        if data.preds:
            rows = self._sacrebleu()._extract_corpus_statistics(list(data.preds), streams)
            table = np.asarray(rows, dtype=np.float64).reshape(len(data.preds), self.n_stats)
        else:
            table = np.zeros((0, self.n_stats))
        self._cache = (data, table)
        return table

    def sufficient(self, data: TextData) -> Sufficient:
        return Sufficient.per_item(self.statistics(data))


class Bleu(_Sacre):
    name = "bleu"
    description = "corpus BLEU as sacrebleu computes it (13a tokeniser, exp smoothing), 0-100"
    n_stats = 2 + 2 * _BLEU_ORDER

    def _sacrebleu(self) -> Any:
        return BLEU()

    def from_totals(self, totals: NDArray[np.float64], data: TextData) -> NDArray[np.float64]:
        return bleu_from_stats(totals)[:, None]

    def item_scores(self, data: TextData) -> NDArray[np.float64]:
        return bleu_from_stats(self.statistics(data), effective_order=True)


class Chrf(_Sacre):
    name = "chrf"
    description = "corpus chrF (character 6-grams, beta 2) as sacrebleu computes it, 0-100"
    n_stats = 3 * CHRF.CHAR_ORDER

    def _sacrebleu(self) -> Any:
        return CHRF()

    def from_totals(self, totals: NDArray[np.float64], data: TextData) -> NDArray[np.float64]:
        return chrf_from_stats(totals)[:, None]

    def item_scores(self, data: TextData) -> NDArray[np.float64]:
        return chrf_from_stats(self.statistics(data))


def _safe_div(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def bleu_from_stats(
    stats: NDArray[np.float64], effective_order: bool = False
) -> NDArray[np.float64]:
    """BLEU (0–100) of each row of summed statistics, as ``BLEU.compute_bleu`` with ``exp``
    smoothing: ``(B, 10)`` → ``(B,)``.

    Orders from the first one without any hypothesis n-gram on are dropped with
    ``effective_order`` and make the score 0 without it (sacrebleu's log floor).
    """
    s = np.asarray(stats, dtype=np.float64).reshape(-1, 2 + 2 * _BLEU_ORDER)
    sys_len, ref_len = s[:, 0], s[:, 1]
    correct, total = s[:, 2 : 2 + _BLEU_ORDER], s[:, 2 + _BLEU_ORDER :]

    shortfall = _safe_div(ref_len, sys_len)
    bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - shortfall), 0.0), 1.0)

    valid = np.cumprod(total > 0, axis=1).astype(bool)  # orders before the first empty one
    zero = (correct == 0) & valid
    smooth = 2.0 ** np.cumsum(zero, axis=1)  # mteval smoothing: 1/2, 1/4… for each empty order
    matched = _safe_div(100.0 * correct, total)
    smoothed = _safe_div(np.full_like(total, 100.0), smooth * total)
    precision = np.where(zero, smoothed, matched)
    log_p = np.full_like(precision, _LOG_FLOOR)
    np.log(precision, out=log_p, where=valid & (precision > 0))

    log_sum = np.zeros(s.shape[0])
    for n in range(_BLEU_ORDER):  # sequential, as sacrebleu's sum()
        log_sum = log_sum + np.where(valid[:, n] | (not effective_order), log_p[:, n], 0.0)
    order = valid.sum(axis=1) if effective_order else np.full(s.shape[0], _BLEU_ORDER)
    mean_log = _safe_div(log_sum, order.astype(np.float64))
    score = bp * np.exp(mean_log)
    return np.where((correct != 0).any(axis=1) & (order > 0), score, 0.0)


def chrf_from_stats(stats: NDArray[np.float64], beta: float = CHRF.BETA) -> NDArray[np.float64]:
    """chrF (0–100) of each row of summed statistics, as ``CHRF._compute_f_score`` with its
    default effective-order averaging: ``(B, 18)`` → ``(B,)``.

    Precision and recall are averaged over the n-gram orders where both the hypothesis and the
    reference have n-grams, then combined into F-beta.
    """
    s = np.asarray(stats, dtype=np.float64).reshape(-1, CHRF.CHAR_ORDER, 3)
    n_hyp, n_ref, n_match = s[:, :, 0], s[:, :, 1], s[:, :, 2]
    both = (n_hyp > 0) & (n_ref > 0)
    prec = _safe_div(n_match, n_hyp)
    rec = _safe_div(n_match, n_ref)
    sum_prec = np.zeros(s.shape[0])
    sum_rec = np.zeros(s.shape[0])
    for n in range(CHRF.CHAR_ORDER):  # sequential, as sacrebleu's loop
        sum_prec = sum_prec + np.where(both[:, n], prec[:, n], 0.0)
        sum_rec = sum_rec + np.where(both[:, n], rec[:, n], 0.0)
    effective = both.sum(axis=1).astype(np.float64)
    avg_prec = _safe_div(sum_prec, effective)
    avg_rec = _safe_div(sum_rec, effective)
    factor = beta**2
    f = _safe_div((1 + factor) * avg_prec * avg_rec, factor * avg_prec + avg_rec)
    return np.where(avg_prec + avg_rec > 0, 100 * f, 0.0)


METRICS: list[type] = [Bleu, Chrf]
