"""The demo's campaign YAML (issue #14: ``make demo`` passes the relative ``runs/demo``, and the
task paths written into the YAML were read again from the YAML's folder): a relative and an
absolute folder both give a campaign; the pack task is named by its id; the dev and test phases
do not overlap. No model: the path logic only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from palmares.campaigns import create_campaign
from palmares.campaigns.spec import CampaignSpec
from palmares.demo.build import _calcul_task, _Campaign, _campaign_yaml, _phase_dates
from palmares.store import Phase, migrate, open_engine, sessions

NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)
PLAN = _Campaign("printemps-2027", "Printemps", NOW - timedelta(days=2), NOW + timedelta(days=30))


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_the_campaign_yaml_works_from_a_relative_or_absolute_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = Path("runs/demo") if relative else tmp_path / "demo"
    folder.mkdir(parents=True)
    (folder / "rules.md").write_text("# Règles\n", "utf-8")
    calcul = _calcul_task(folder / "tasks", PLAN.slug, 12345)
    assert calcul.is_absolute() != relative  # as build_demo got it, before resolving
    path = _campaign_yaml(folder, PLAN, calcul, [])
    entries = yaml.safe_load(path.read_text("utf-8"))["tasks"]
    assert entries[0]["task"] == "culture-fr"  # the pack task, by its id
    assert entries[1]["task"] == "tasks/calcul-fr-printemps-2027/task.yaml"  # from the YAML
    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    db = sessions(engine)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the YAML's paths do not depend on the current folder
    campaign_id = create_campaign(db, (tmp_path / path).resolve(), now=PLAN.start, actor="t")
    with db() as session:
        phases = session.query(Phase).filter_by(campaign_id=campaign_id).order_by(Phase.starts_at)
        (dev, test) = list(phases)
    assert dev.ends_at <= test.starts_at  # one phase after the other, never both at once
    engine.dispose()


def test_the_phases_follow_each_other(tmp_path: Path) -> None:
    (dev_start, dev_end), (test_start, test_end) = _phase_dates(PLAN)
    assert dev_start == (NOW - timedelta(days=2)).date() and test_start == dev_end + timedelta(1)
    spec = CampaignSpec.model_validate(
        {
            "challenge": {"id": "c", "title": "C"},
            "campaign": {"id": "k", "title": "K"},
            "tasks": [{"task": "culture-fr", "hidden_split": "test"}],
            "phases": [
                {"kind": "dev", "start": dev_start, "end": dev_end},
                {"kind": "test", "start": test_start, "end": test_end},
            ],
        }
    )
    dev, test = spec.phases
    assert dev.end == test.start  # the dev phase's last day ends where the test phase begins
    assert (test.end - test.start).days == 7


def test_the_real_data_tasks_work_from_relative_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make demo`` passes ``--data-dir ../shared/data`` and ``runs/demo``, both relative: the
    sample tasks it writes read their data from anywhere (no model: loading only)."""
    from palmares.demo.real_data import real_data_tasks
    from palmares.tasks import load_task

    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    data = Path("..") / Path(*[".."] * len(tmp_path.parts)) / shared.relative_to("/")
    assert data.resolve() == shared.resolve() and not data.is_absolute()
    folder = Path("runs/demo")
    made, skipped = real_data_tasks(data, folder / "tasks")
    assert [p.parent.name for p in made] and not skipped
    monkeypatch.chdir(tmp_path)  # elsewhere
    for task in made:
        path = task if task.is_absolute() else tmp_path / "repo" / task
        loaded = load_task(path)
        assert len(loaded.items(loaded.splits[-1])) > 0
