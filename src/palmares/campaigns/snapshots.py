"""Frozen leaderboards: published when a phase ends (the private part decides the final
ranking); a rescore after a fix publishes a new snapshot that supersedes, never replaces, the
old one. The rows are frozen as the board's rule ranked them (``campaigns.verdicts``); an ended
phase's board shows its latest snapshot (``leaderboard.shown_board``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.audit import record
from palmares.campaigns.leaderboard import leaderboard
from palmares.campaigns.service import Forbidden
from palmares.core import Message
from palmares.store import CampaignTask, Phase, Snapshot


def publish(
    db: sessionmaker[Session],
    campaign_id: int,
    phase_kind: str,
    task_id: str,
    reason: str,
    actor: str = "system",
    now: datetime | None = None,
) -> int:
    """Freeze the phase's public and private leaderboards of ``task_id``; the snapshot's id."""
    now = now or datetime.now(UTC)
    with db() as session:
        phase = session.scalar(
            select(Phase).where(Phase.campaign_id == campaign_id, Phase.kind == phase_kind)
        )
        if phase is None:
            raise Forbidden(
                Message(
                    "no {phase} phase in campaign {campaign}",
                    phase=phase_kind,
                    campaign=campaign_id,
                )
            )
        if phase.ends_at > now:
            raise Forbidden(
                Message("the {phase} phase has not ended: nothing to freeze yet", phase=phase_kind)
            )
        phase_id = phase.id
    public = leaderboard(db, campaign_id, task_id, phase_kind, "public")
    private = leaderboard(db, campaign_id, task_id, phase_kind, "private")
    with db.begin() as session:
        previous = session.scalar(
            select(Snapshot.id)
            .where(Snapshot.phase_id == phase_id, Snapshot.task_id == task_id)
            .order_by(Snapshot.id.desc())
            .limit(1)
        )
        snapshot = Snapshot(
            phase_id=phase_id,
            task_id=task_id,
            public=public,
            private=private,
            reason=reason,
            supersedes=previous,
            created_at=now,
        )
        session.add(snapshot)
        session.flush()
        record(
            session,
            actor,
            "snapshot.publish",
            {"snapshot": snapshot.id, "phase": phase_kind, "task": task_id, "reason": reason},
            now,
        )
        return snapshot.id


def freeze_ended(db: sessionmaker[Session], now: datetime | None = None) -> list[int]:
    """Publish the first snapshot of every ended phase and task that has none (the worker calls
    this as it polls)."""
    now = now or datetime.now(UTC)
    todo: list[tuple[int, str, str]] = []
    with db() as session:
        rows = session.execute(
            select(Phase, CampaignTask).join(
                CampaignTask, CampaignTask.campaign_id == Phase.campaign_id
            )
        ).all()
        for phase, entry in rows:
            done = session.scalar(
                select(Snapshot.id).where(
                    Snapshot.phase_id == phase.id, Snapshot.task_id == entry.task_id
                )
            )
            if done is None and phase.ends_at <= now:
                todo.append((phase.campaign_id, phase.kind, entry.task_id))
    return [publish(db, c, k, t, "phase ended", now=now) for c, k, t in todo]


def snapshots(db: sessionmaker[Session], campaign_id: int, task_id: str) -> list[dict[str, Any]]:
    """Every snapshot of a task's boards in the campaign, oldest first: each with the one it
    ``supersedes`` and the one that supersedes it (``superseded_by``: None for the latest of
    its phase, the one boards show, ``leaderboard.latest_snapshot``)."""
    with db() as session:
        rows = session.execute(
            select(Snapshot, Phase.kind)
            .join(Phase, Phase.id == Snapshot.phase_id)
            .where(Phase.campaign_id == campaign_id, Snapshot.task_id == task_id)
            .order_by(Snapshot.id)
        ).all()
    later = {s.supersedes: s.id for s, _kind in rows if s.supersedes is not None}
    return [
        {
            "id": s.id,
            "phase": kind,
            "reason": s.reason,
            "supersedes": s.supersedes,
            "superseded_by": later.get(s.id),
            "created_at": s.created_at.isoformat(),
            "public": s.public,
            "private": s.private,
        }
        for s, kind in rows
    ]
