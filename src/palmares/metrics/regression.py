"""Regression: MAE, MSE, RMSE, R², Pearson correlation.

MAE and MSE are means of an item score. RMSE, R² and Pearson's r are corpus statistics computed
from additive sums, so that a bootstrap replicate is one row of summed statistics (see
``stats.bootstrap``). Each per-item table holds a column of ones: the (resampled) count ``n``.

Values and conventions follow scikit-learn (``r2_score`` with ``force_finite=True``) and
``scipy.stats.pearsonr``, and the tests check them against both. Where a statistic is undefined
(R² of constant references, r of a constant series, an empty corpus), R² follows scikit-learn:
1.0 for a perfect fit and 0.0 otherwise (0.0 when empty); r counts as 0.0 (scipy returns NaN), like
the other 0/0 ratios of Palmarès.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from palmares.core import ValueKind
from palmares.metrics._base import CorpusMetric, MeanMetric
from palmares.metrics._data import NumberData
from palmares.stats import Sufficient

# A sum of squared deviations at most this fraction of the sum of squares it is computed from is
# rounding noise: the series is constant.
_CONSTANT_TOL = 1e-12


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _centred(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Values minus their mean: the corpus statistics below are invariant under a shift, and
    sums of centred values keep their precision (no cancellation in ``Σy² − (Σy)²/n``)."""
    values = np.asarray(values, dtype=np.float64)
    return values - values.mean() if values.size else values


def _spread(
    n: NDArray[np.float64], s: NDArray[np.float64], ss: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``Σ(v − v̄)²`` from ``n = Σ1``, ``s = Σv``, ``ss = Σv²``; exactly 0 for a constant series."""
    spread = ss - _ratio(s * s, n)
    return np.where(spread > _CONSTANT_TOL * ss, spread, 0.0)


class MAE(MeanMetric[NumberData]):
    name = "mae"
    kind = ValueKind.NUMBER
    higher_is_better = False
    description = "mean absolute error |prediction − reference|"

    def item_scores(self, data: NumberData) -> NDArray[np.float64]:
        return np.abs(np.asarray(data.preds, dtype=np.float64) - data.refs)


class MSE(MeanMetric[NumberData]):
    name = "mse"
    kind = ValueKind.NUMBER
    higher_is_better = False
    description = "mean squared error (prediction − reference)²"

    def item_scores(self, data: NumberData) -> NDArray[np.float64]:
        return np.square(np.asarray(data.preds, dtype=np.float64) - data.refs)


class RMSE(CorpusMetric[NumberData]):
    """Statistics ``[1, (ŷ − y)²]``; RMSE = √(Σ(ŷ − y)² / n)."""

    name = "rmse"
    kind = ValueKind.NUMBER
    higher_is_better = False
    description = "root mean squared error √mean((prediction − reference)²)"

    def sufficient(self, data: NumberData) -> Sufficient:
        sq_err = np.square(np.asarray(data.preds, dtype=np.float64) - data.refs)
        return Sufficient.per_item(np.column_stack([np.ones_like(sq_err), sq_err]))

    def from_totals(self, totals: NDArray[np.float64], data: NumberData) -> NDArray[np.float64]:
        return np.sqrt(_ratio(totals[:, 1], totals[:, 0]))[:, None]


class R2(CorpusMetric[NumberData]):
    """Statistics ``[1, y, y², (y − ŷ)²]`` (``y`` centred on the corpus mean);
    R² = 1 − SS_res / SS_tot with SS_tot = Σy² − (Σy)²/n."""

    name = "r2"
    kind = ValueKind.NUMBER
    description = "coefficient of determination 1 − SS_res/SS_tot (as scikit-learn's r2_score)"

    def sufficient(self, data: NumberData) -> Sufficient:
        y = _centred(data.refs)
        sq_err = np.square(np.asarray(data.refs, dtype=np.float64) - data.preds)
        return Sufficient.per_item(np.column_stack([np.ones_like(y), y, y * y, sq_err]))

    def from_totals(self, totals: NDArray[np.float64], data: NumberData) -> NDArray[np.float64]:
        n, s, ss, ss_res = totals.T
        ss_tot = _spread(n, s, ss)
        # scikit-learn's value when SS_tot = 0: 1 for a perfect fit, else 0 (and 0 when empty)
        perfect = np.where((ss_res > 0) | (n == 0), 0.0, 1.0)
        r2 = 1.0 - np.divide(ss_res, ss_tot, out=np.zeros_like(ss_res), where=ss_tot > 0)
        return np.where(ss_tot > 0, r2, perfect)[:, None]


class Pearson(CorpusMetric[NumberData]):
    """Statistics ``[1, x, y, x², y², xy]`` (``x`` predictions, ``y`` references, each centred);
    r = Sxy / √(Sxx · Syy) with Sxy = Σxy − ΣxΣy/n and so on."""

    name = "pearson"
    kind = ValueKind.NUMBER
    description = "Pearson correlation between predictions and references (0 if either is constant)"

    def sufficient(self, data: NumberData) -> Sufficient:
        x, y = _centred(data.preds), _centred(data.refs)
        return Sufficient.per_item(np.column_stack([np.ones_like(x), x, y, x * x, y * y, x * y]))

    def from_totals(self, totals: NDArray[np.float64], data: NumberData) -> NDArray[np.float64]:
        n, sx, sy, sxx, syy, sxy = totals.T
        den = np.sqrt(_spread(n, sx, sxx) * _spread(n, sy, syy))
        r = _ratio(sxy - _ratio(sx * sy, n), den)
        return np.clip(r, -1.0, 1.0)[:, None]


METRICS: list[type] = [MAE, MSE, RMSE, R2, Pearson]
