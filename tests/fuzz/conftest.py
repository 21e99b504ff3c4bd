"""Hypothesis settings for the fuzzing tests: reproducible (derandomized) and bounded.

``fuzz`` (the default here) keeps the folder well under a minute on a loaded 2-core machine;
``PALMARES_FUZZ=deep`` runs ten times more examples, with random seeds, for a manual hunt.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]

settings.register_profile(
    "fuzz",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,  # no .hypothesis folder left in the checkout
    suppress_health_check=_SUPPRESS,
)
settings.register_profile(
    "deep",
    max_examples=1500,
    deadline=None,
    database=None,
    suppress_health_check=_SUPPRESS,
)
settings.load_profile(os.environ.get("PALMARES_FUZZ", "fuzz"))
