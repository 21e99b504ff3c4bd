"""Progress between campaigns, measured on anchor items: the hidden items a later campaign
carries, unchanged, from an earlier one (``anchors_from``). Each team's latest scored predictions
file of each campaign is scored on exactly those items, so the two numbers compare like for like.

Model submissions are not included yet: their predictions are not kept after scoring.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.artifacts import Artifacts
from palmares.campaigns.scoring import subset_predictions
from palmares.core import InputError
from palmares.engine import Scorer
from palmares.store import Campaign, CampaignTask, Submission, Team
from palmares.tasks import IdIndex, load_task, read_predictions


def progress(
    db: sessionmaker[Session], artifacts: Artifacts, campaign_id: int, task_id: str
) -> dict[str, Any]:
    with db() as session:
        entry = session.scalar(
            select(CampaignTask).where(
                CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id
            )
        )
        if entry is None or entry.anchor_source_id is None or not entry.anchor_ids:
            raise InputError(f"task {task_id!r} of campaign {campaign_id} has no anchor items")
        source = session.get(CampaignTask, entry.anchor_source_id)
        assert source is not None
        latest = {ct.id: _latest(session, ct.id) for ct in (source, entry)}
        slugs = {
            ct.id: session.scalar(select(Campaign.slug).where(Campaign.id == ct.campaign_id))
            for ct in (source, entry)
        }
    anchors = list(entry.anchor_ids)
    rows = []
    metric = ""
    for ct in (source, entry):
        task = load_task(ct.spec_path)
        metric = task.spec.primary_metric
        items = task.items(ct.hidden_split)
        index = IdIndex(pa.array(items.ids, type=pa.string()))  # built once for every file
        positions = [items.index[a] for a in anchors]
        part = Scorer(task, ct.hidden_split, items=items.take(positions))
        for team, digest in latest[ct.id]:
            path = str(artifacts.path(digest))
            predictions = read_predictions(path, items, task.value_kind, index=index)
            score = part.score(subset_predictions(predictions, positions)).table.scores[metric]
            rows.append(
                {
                    "campaign": slugs[ct.id],
                    "team": team,
                    "value": score.value,
                    "ci": score.ci,
                    "n": score.n,
                }
            )
    return {"task": task_id, "anchors": len(anchors), "metric": metric, "rows": rows}


def _latest(session: Session, campaign_task_id: int) -> list[tuple[str, str]]:
    """(team, artifact) of each team's latest scored predictions file on the hidden split."""
    found: dict[str, str] = {}
    rows = session.execute(
        select(Team.name, Submission.artifact)
        .join(Team, Team.id == Submission.team_id)
        .where(
            Submission.campaign_task_id == campaign_task_id,
            Submission.kind == "predictions",
            Submission.split == "hidden",
            Submission.status == "scored",
        )
        .order_by(Submission.created_at, Submission.id)
    ).all()
    for team, artifact in rows:
        found[team] = artifact
    return sorted(found.items())
