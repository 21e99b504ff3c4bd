"""Every public name of palmares.stats is documented in docs/statistics.md."""

from __future__ import annotations

from pathlib import Path

import palmares.stats

DOC = Path(__file__).resolve().parents[2] / "docs" / "statistics.md"


def test_every_public_name_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in palmares.stats.__all__ if f"`{name}`" not in text]
    assert not missing, f"docs/statistics.md does not mention: {missing}"


def test_all_lists_only_real_names() -> None:
    for name in palmares.stats.__all__:
        assert hasattr(palmares.stats, name), name
