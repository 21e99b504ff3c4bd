"""Uncertainty: confidence intervals, paired tests, rankings and leaderboards (pure numpy/scipy).

Every method and its reference and test are described in docs/statistics.md.
"""

from palmares.stats._resample import Statistic
from palmares.stats.bca import BootstrapInterval, acceleration, bca_interval, bootstrap_interval
from palmares.stats.bootstrap import (
    Sufficient,
    bootstrap_means,
    bootstrap_totals,
    percentile_interval,
)
from palmares.stats.bradley_terry import (
    BradleyTerryFit,
    bradley_terry,
    bradley_terry_intervals,
    fit_wins,
    wins_matrix,
)
from palmares.stats.intervals import cluster_t_interval, mean_interval, t_interval, wilson_interval
from palmares.stats.ladder import Ladder, LadderDecision, ladder_step
from palmares.stats.multiple import (
    PairwiseComparison,
    adjust_pairs,
    all_pairs,
    benjamini_hochberg,
    compact_letters,
    holm,
)
from palmares.stats.paired import PairedTest, mcnemar, paired_bootstrap, paired_permutation
from palmares.stats.power import (
    items_needed,
    minimum_detectable_difference,
    paired_sd,
    power_of,
)
from palmares.stats.ranks import RankIntervals, rank_intervals, replicate_values

__all__ = [
    "BootstrapInterval",
    "BradleyTerryFit",
    "Ladder",
    "LadderDecision",
    "PairedTest",
    "PairwiseComparison",
    "RankIntervals",
    "Statistic",
    "Sufficient",
    "acceleration",
    "adjust_pairs",
    "all_pairs",
    "bca_interval",
    "benjamini_hochberg",
    "bootstrap_interval",
    "bootstrap_means",
    "bootstrap_totals",
    "bradley_terry",
    "bradley_terry_intervals",
    "cluster_t_interval",
    "compact_letters",
    "fit_wins",
    "holm",
    "items_needed",
    "ladder_step",
    "mcnemar",
    "mean_interval",
    "minimum_detectable_difference",
    "paired_bootstrap",
    "paired_permutation",
    "paired_sd",
    "percentile_interval",
    "power_of",
    "rank_intervals",
    "replicate_values",
    "t_interval",
    "wilson_interval",
    "wins_matrix",
]
