"""A campaign's ``task:`` entry may name a pack task by its id (issue #14), as every command that
takes a task does; a file of that name beside the campaign file wins; a name that is neither is
an error naming the entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import create_campaign
from palmares.core import InputError
from palmares.packs.fr import find_task
from palmares.store import CampaignTask

YAML = """
challenge: {id: defi-fr, title: "Défi"}
campaign: {id: c1, title: "Campagne"}
tasks:
  - {task: TASK, public_split: fewshot, hidden_split: test}
phases:
  - {kind: dev, start: 2027-03-01, end: 2027-04-15}
"""


def _write(folder: Path, task: str) -> Path:
    path = folder / "campaign.yaml"
    path.write_text(YAML.replace("TASK", task), "utf-8")
    return path


def test_a_pack_task_id_creates_the_campaign(db: sessionmaker[Session], tmp_path: Path) -> None:
    campaign_id = create_campaign(db, _write(tmp_path, "culture-fr"))
    with db() as session:
        entry = session.scalars(
            select(CampaignTask).where(CampaignTask.campaign_id == campaign_id)
        ).one()
    assert entry.task_id == "culture-fr"
    assert entry.spec_path == str(find_task("culture-fr").resolve())


def test_an_unknown_name_names_the_entry(db: sessionmaker[Session], tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        create_campaign(db, _write(tmp_path, "culture-frr"))
    assert caught.value.field == "tasks.0.task" and caught.value.file
    assert "no task file and no pack task 'culture-frr'" in str(caught.value)
    assert "culture-fr" in str(caught.value)  # the pack tasks are listed


def test_the_console_takes_a_pack_task_id(db: sessionmaker[Session], tmp_path: Path) -> None:
    """The console confines task files to its tasks folder; a pack id is no file there."""
    from palmares.campaigns.operations import create_campaign_from_text

    tasks_dir = tmp_path / "tasks"
    tasks_dir.mkdir()
    campaign_id = create_campaign_from_text(
        db, YAML.replace("TASK", "culture-fr"), tasks_dir, "olga"
    )
    with db() as session:
        assert session.scalars(
            select(CampaignTask.task_id).where(CampaignTask.campaign_id == campaign_id)
        ).all() == ["culture-fr"]
    with pytest.raises(InputError) as caught:
        create_campaign_from_text(db, YAML.replace("TASK", "../x.yaml"), tasks_dir, "olga")
    assert caught.value.field == "tasks.0.task"
