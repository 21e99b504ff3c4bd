"""Leaderboards: per phase and task, each team's latest scored submission, with its interval.

``part="public"`` is what is shown during the phase; ``part="private"`` decides the final ranking.
Teams are ordered by the primary metric's value, in its better direction; the interval says
which differences are real (significance groups come with issue #6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.metrics import metric_registry
from palmares.store import CampaignTask, Phase, ScoreRecord, Submission, System, Team


def public_board_withheld(phase: Phase, now: datetime) -> bool:
    """Is this phase's public ranking withheld from non-staff right now? (Its feedback or its
    leaderboard visibility says so, until the phase ends.)"""
    return phase.ends_at > now and (phase.feedback == "none" or phase.leaderboard == "hidden")


def leaderboard(
    db: sessionmaker[Session],
    campaign_id: int,
    task_id: str,
    phase_kind: str,
    part: Literal["public", "private"] = "public",
) -> list[dict[str, Any]]:
    with db() as session:
        rows = session.execute(
            select(Submission, ScoreRecord, Team.name, System.name)
            .join(ScoreRecord, ScoreRecord.submission_id == Submission.id)
            .join(Team, Team.id == Submission.team_id)
            .outerjoin(System, System.id == Submission.system_id)
            .join(Phase, Phase.id == Submission.phase_id)
            .join(CampaignTask, CampaignTask.id == Submission.campaign_task_id)
            .where(
                Phase.campaign_id == campaign_id,
                Phase.kind == phase_kind,
                CampaignTask.task_id == task_id,
                Submission.split == "hidden",  # public-split submissions are never ranked
            )
            .order_by(Submission.created_at, Submission.id)
        ).all()
    latest: dict[str, tuple[Submission, ScoreRecord, str | None]] = {}
    for submission, record, team, system_name in rows:  # the system is None when not named
        latest[team] = (submission, record, system_name)  # later rows replace earlier ones
    board = []
    for team, (submission, record, system) in latest.items():
        scores = getattr(record, part)["scores"]
        primary = scores[record.primary_metric]
        board.append(
            {
                "team": team,
                "system": system,
                "submission": submission.id,
                "metric": record.primary_metric,
                "value": primary["value"],
                "ci": primary["ci"],
                "n": primary["n"],
                "scores": scores,
            }
        )
    if board:
        name = board[0]["metric"].split("@")[0].split("[")[0]
        better_high = (
            metric_registry().get(name).higher_is_better if name in metric_registry() else True
        )
        board.sort(key=lambda r: r["value"], reverse=better_high)
    for rank, row in enumerate(board, 1):
        row["rank"] = rank
    return board
