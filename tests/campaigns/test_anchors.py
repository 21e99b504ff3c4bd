"""Anchor items: a later campaign carries the unchanged hidden items of an earlier one, and
progress is measured on exactly those, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import EXAMPLE, campaign_file, join

from palmares.campaigns import Artifacts, create_campaign, progress, run_one, submit_predictions
from palmares.core import InputError
from palmares.store import CampaignTask

C1_DEV = datetime(2027, 3, 10, tzinfo=UTC)


def _predictions(path: Path, wrong_every: int) -> Path:
    rows = [json.loads(x) for x in (EXAMPLE / "baseline.jsonl").read_text("utf-8").splitlines()]
    for i, row in enumerate(rows):
        if i % wrong_every == 0:
            row["prediction"] = "négatif" if row["prediction"] == "positif" else "positif"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_progress_on_anchor_items(db: sessionmaker[Session], tmp_path: Path) -> None:
    first = create_campaign(db, campaign_file(tmp_path))
    # campaign 2: the same task, one item's reference corrected → not an anchor
    folder = tmp_path / "c2"
    shutil.copytree(EXAMPLE, folder / "task")
    items = (folder / "task" / "avis.jsonl").read_text("utf-8").splitlines()
    changed = json.loads(items[0])
    changed["label"] = "négatif" if changed["label"] == "positif" else "positif"
    items[0] = json.dumps(changed, ensure_ascii=False)
    (folder / "task" / "avis.jsonl").write_text("\n".join(items) + "\n", "utf-8")
    body = campaign_file(tmp_path).read_text("utf-8")
    body = body.replace("{id: 2027-printemps,", "{id: 2027-automne, anchors_from: 2027-printemps,")
    body = body.replace(str(EXAMPLE / "task.yaml"), str(folder / "task" / "task.yaml"))
    body = body.replace("2027-", "2028-").replace("2028-automne", "2027-automne")
    body = body.replace("anchors_from: 2028-printemps", "anchors_from: 2027-printemps")
    (folder / "campaign.yaml").write_text(body, "utf-8")
    second = create_campaign(db, folder / "campaign.yaml")
    with db() as session:
        entry = session.scalar(select(CampaignTask).where(CampaignTask.campaign_id == second))
        assert entry is not None and entry.anchor_ids is not None
        assert len(entry.anchor_ids) == 47 and changed["id"] not in entry.anchor_ids

    artifacts = Artifacts(tmp_path / "artifacts")
    token = join(db, "alice", "lab-a", first)
    from palmares.campaigns import register

    register(db, token, second, accept_rules=True)
    submit_predictions(
        db, artifacts, token, first, "avis-fr", _predictions(tmp_path / "a.jsonl", 3), C1_DEV
    )
    c2_dev = datetime(2028, 3, 10, tzinfo=UTC)
    submit_predictions(
        db, artifacts, token, second, "avis-fr", _predictions(tmp_path / "b.jsonl", 10), c2_dev
    )
    while run_one(db, artifacts, clock=lambda: c2_dev) is not None:
        pass
    report = progress(db, artifacts, second, "avis-fr")
    assert report["anchors"] == 47 and report["metric"] == "accuracy"
    by_campaign = {r["campaign"]: r for r in report["rows"]}
    assert set(by_campaign) == {"2027-printemps", "2027-automne"}
    assert by_campaign["2027-printemps"]["n"] == by_campaign["2027-automne"]["n"] == 47
    assert by_campaign["2027-automne"]["value"] > by_campaign["2027-printemps"]["value"]
    with pytest.raises(InputError, match="no anchor items"):
        progress(db, artifacts, first, "avis-fr")


def test_anchors_from_an_unknown_campaign_is_located(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    path = campaign_file(tmp_path)
    path.write_text(
        path.read_text("utf-8").replace(
            "{id: 2027-printemps,", "{id: 2027-printemps, anchors_from: nope,"
        ),
        "utf-8",
    )
    with pytest.raises(InputError, match=r"campaign\.anchors_from: no campaign 'nope'"):
        create_campaign(db, path)
