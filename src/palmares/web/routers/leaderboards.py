"""``/api/campaigns/{id}/tasks/{task}/leaderboard``: the ranking by the board's rule
(``campaigns.verdicts``: rank with ties ``rank_label`` ``3=``, ``verdict``, ``below``,
``rank_interval``, ``group``; ``significance`` says how they are computed), the metric's
``direction``, and for a frozen board the snapshot shown (``frozen``) — what the page shows.

The public part is shown to anyone while a phase's feedback allows it (with ``ladder``
feedback: each team's released score, ``"ladder": true``); the private part, which decides the
final ranking, only to organisers and auditors until the phase has ended.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from palmares.campaigns import (
    Forbidden,
    is_staff,
    progress,
    public_board_withheld,
    snapshots,
)
from palmares.campaigns.leaderboard import shown_board
from palmares.campaigns.significance import METHOD
from palmares.core import InputError
from palmares.store import Phase
from palmares.web.deps import DB, ArtifactsDep, OptionalUser
from palmares.web.errors import NotFound
from palmares.web.routers._params import NO_NUL, Id, Name

router = APIRouter(prefix="/api/campaigns", tags=["leaderboards"])


@router.get("/{campaign_id}/tasks/{task_id}/leaderboard")
def get_leaderboard(
    campaign_id: Id,
    task_id: Name,
    db: DB,
    user: OptionalUser,
    phase: Annotated[str, Query(max_length=20, pattern=NO_NUL)] = "dev",
    part: Literal["public", "private"] = "public",
) -> dict[str, Any]:
    with db() as s:
        row = s.scalar(select(Phase).where(Phase.campaign_id == campaign_id, Phase.kind == phase))
    if row is None:
        raise NotFound(f"no {phase} phase in campaign {campaign_id}")
    staff, now = is_staff(user), datetime.now(UTC)
    if not staff and public_board_withheld(row, now):
        raise Forbidden(f"the {phase} phase shows no leaderboard before it ends")
    if part == "private" and not staff and row.ends_at > now:
        raise Forbidden("the private leaderboard is published when the phase ends")
    board = shown_board(db, campaign_id, task_id, row, part, now, staff)
    return {
        "phase": phase,
        "part": part,
        "task": task_id,
        "rows": board.rows,
        "ladder": board.ladder,
        "direction": board.direction.as_dict(),
        "frozen": board.frozen,
        "significance": METHOD,
    }


@router.get("/{campaign_id}/tasks/{task_id}/snapshots")
def get_snapshots(campaign_id: Id, task_id: Name, db: DB) -> dict[str, Any]:
    """Frozen leaderboards (published at each phase's end, and after each rescore), oldest
    first; each names the one it ``supersedes`` and the one it is ``superseded_by``."""
    return {"task": task_id, "snapshots": snapshots(db, campaign_id, task_id)}


@router.get("/{campaign_id}/tasks/{task_id}/progress")
def get_progress(
    campaign_id: Id, task_id: Name, db: DB, user: OptionalUser, artifacts: ArtifactsDep
) -> dict[str, Any]:
    """Scores of this campaign and the one it carries anchors from, on the anchor items only.
    Staff see it at any time; everyone once the campaign's last phase has ended."""
    with db() as s:
        ends = s.scalars(select(Phase.ends_at).where(Phase.campaign_id == campaign_id)).all()
    if not ends:
        raise NotFound(f"no campaign {campaign_id}")
    if not is_staff(user) and max(ends) > datetime.now(UTC):
        raise Forbidden("progress on anchor items is published when the campaign ends")
    try:
        return progress(db, artifacts, campaign_id, task_id)
    except InputError as exc:
        raise NotFound(exc.problem) from None
