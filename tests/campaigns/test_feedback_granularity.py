"""``rounded`` feedback must hide single items (issue #13: with n = 17 public items, 0.06 can only
be 1/17): a campaign whose public part is under ``ROUNDED_MIN_ITEMS`` items is refused at
creation, naming the file and the phase's field; any smaller rounded score (a slice, a phase
switched to ``rounded`` later) is shown to a widened step."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import binary_campaign

from palmares.campaigns import create_campaign
from palmares.campaigns.leaderboard import ROUNDED_MIN_ITEMS, round_score, rounding_hundredths
from palmares.core import InputError


def test_rounded_feedback_is_refused_on_a_small_public_part(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    binary_campaign(
        tmp_path, "petit", [i % 2 for i in range(34)], id_prefix="p", feedback="rounded"
    )
    with pytest.raises(InputError) as caught:
        create_campaign(db, tmp_path / "campaign.yaml")
    error = caught.value
    assert error.file == str(tmp_path / "campaign.yaml") and error.field == "phases.0.feedback"
    assert "public part has" in error.problem and str(ROUNDED_MIN_ITEMS) in error.problem


def test_rounded_feedback_is_accepted_on_a_large_public_part(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    # 600 hidden items: about 300 in the public part, whatever the campaign's secret
    binary_campaign(
        tmp_path, "grand", [i % 2 for i in range(600)], id_prefix="g", feedback="rounded"
    )
    assert create_campaign(db, tmp_path / "campaign.yaml") == 1


def test_full_feedback_on_a_small_public_part_is_fine(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    binary_campaign(tmp_path, "petit", [i % 2 for i in range(34)], id_prefix="p", feedback="full")
    assert create_campaign(db, tmp_path / "campaign.yaml") == 1


def test_the_step_widens_so_that_one_item_is_never_read_off() -> None:
    assert rounding_hundredths(None) == rounding_hundredths(ROUNDED_MIN_ITEMS) == 1
    assert rounding_hundredths(17) == 12 and rounding_hundredths(50) == 4
    assert rounding_hundredths(199) == 2 and rounding_hundredths(1) == 200
    for n in (3, 17, 50, 120, 199, 200, 1000):
        step = rounding_hundredths(n) / 100
        assert step >= 2 / n or n >= ROUNDED_MIN_ITEMS
        # every shown value stands for at least two counts c/n (but at the ends of the range)
        shown = [round_score({"value": c / n, "ci": None, "n": n})["value"] for c in range(n + 1)]
        counts: dict[float, int] = {}
        for value in shown:
            counts[value] = counts.get(value, 0) + 1
            assert value == round(value, 2)  # still 2 decimals
        if n < ROUNDED_MIN_ITEMS:
            inner = [k for v, k in counts.items() if 0 < v < 1 - step]
            assert not inner or min(inner) >= 2, (n, counts)
    # the probe's case: 1/17 and 2/17 were 0.06 and 0.12, now both read as one value or the next
    one = round_score({"value": 1 / 17, "ci": [0.01, 0.27], "n": 17})
    assert one["value"] in (0.0, 0.12) and one["ci"] == [0.0, 0.24]
    assert round_score({"value": 0.123456, "ci": None, "n": 500})["value"] == 0.12
    assert round_score({"value": None, "ci": None, "n": 0})["value"] is None
