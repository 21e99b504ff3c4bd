"""Registries: built-ins arrive through entry points, and every metric is documented."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

from palmares.metrics import metric_registry
from palmares.tasks import loader_registry

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_builtins_are_registered_through_entry_points() -> None:
    groups = {
        "palmares.metrics": "palmares.metrics._builtins:register",
        "palmares.loaders": "palmares.tasks._builtins:register",
    }
    for group, value in groups.items():
        assert value in {ep.value for ep in entry_points(group=group)}, group


def test_every_metric_is_documented() -> None:
    """A metric missing from docs/metrics.md fails here (datasette's documentation test)."""
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    for cls in metric_registry():
        assert cls.description, f"metric {cls.name} has no description"
        assert f"`{cls.name}`" in text, f"metric {cls.name} is not documented in docs/metrics.md"


def test_every_format_is_documented() -> None:
    text = (DOCS / "tasks.md").read_text(encoding="utf-8")
    for name in loader_registry().names():
        assert f"`{name}`" in text, f"format {name} is not documented in docs/tasks.md"


def test_every_task_key_is_documented() -> None:
    from palmares.core import DatasetSpec, StatisticsSpec, TaskSpec
    from palmares.core.protocols import FewshotSpec, GenerateSpec, MultipleChoiceSpec, PairsSpec

    text = (DOCS / "tasks.md").read_text(encoding="utf-8")
    models = (TaskSpec, DatasetSpec, StatisticsSpec, MultipleChoiceSpec, PairsSpec, GenerateSpec)
    for model in (*models, FewshotSpec):
        for key in model.model_fields:
            assert f"`{key}`" in text, f"task key {key} is not documented in docs/tasks.md"


def test_every_backend_and_option_is_documented() -> None:
    """Each registered backend has a section in docs/backends.md naming its options."""
    import re

    from palmares.backends import backend_registry

    text = (DOCS / "backends.md").read_text(encoding="utf-8")
    for name in backend_registry().names():
        assert f"## {name}" in text, f"backend {name} is not documented in docs/backends.md"
        source = Path(sys.modules[backend_registry().get(name).__module__].__file__ or "")
        for option in re.findall(r'option_\w+\(options, "(\w+)"', source.read_text("utf-8")):
            assert f"`{option}`" in text, f"option {option} of {name} is not documented"


def test_every_campaign_key_is_documented() -> None:
    from palmares.campaigns.spec import (
        CampaignInfo,
        CampaignSpec,
        ChallengeInfo,
        PhaseSpec,
        QuotaSpec,
        TaskEntry,
    )

    text = (DOCS / "campaigns.md").read_text(encoding="utf-8")
    for model in (CampaignSpec, ChallengeInfo, CampaignInfo, TaskEntry, PhaseSpec, QuotaSpec):
        for key in model.model_fields:
            assert key in text, f"campaign key {key} is not documented in docs/campaigns.md"


def test_every_server_setting_is_documented() -> None:
    from palmares.web.settings import Settings

    text = (DOCS / "campaigns.md").read_text(encoding="utf-8")
    for key in Settings.model_fields:
        assert f"`{key}`" in text and f"PALMARES_{key.upper()}" in text, key
