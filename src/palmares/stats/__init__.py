"""Uncertainty: confidence intervals for item means and for corpus statistics (pure numpy/scipy)."""

from palmares.stats.bootstrap import Sufficient, bootstrap_totals, percentile_interval
from palmares.stats.intervals import cluster_t_interval, mean_interval, t_interval, wilson_interval

__all__ = [
    "Sufficient",
    "bootstrap_totals",
    "cluster_t_interval",
    "mean_interval",
    "percentile_interval",
    "t_interval",
    "wilson_interval",
]
