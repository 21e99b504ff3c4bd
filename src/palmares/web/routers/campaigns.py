"""``/api/campaigns``: what anyone may read about campaigns (no data, no references).

A task is identified by its ``public_hash``: the hash of its spec and its public split, with
nothing of the hidden split in it, so that it confirms no guess about hidden items. Staff
(organisers, administrators, auditors) also see ``task_hash``, over every split."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from palmares.campaigns import is_staff
from palmares.store import Campaign, CampaignTask, Phase
from palmares.web.deps import OptionalUser, SessionDep
from palmares.web.errors import NotFound
from palmares.web.routers._params import Id, Limit, Offset

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


def _describe(s: Session, campaign: Campaign, staff: bool = False) -> dict[str, Any]:
    phases = s.scalars(select(Phase).where(Phase.campaign_id == campaign.id)).all()
    tasks = s.scalars(select(CampaignTask).where(CampaignTask.campaign_id == campaign.id)).all()
    return {
        "id": campaign.id,
        "challenge": campaign.challenge_id,
        "slug": campaign.slug,
        "title": campaign.title,
        "rules": campaign.rules,
        "phases": [
            {
                "kind": p.kind,
                "start": p.starts_at.isoformat(),
                "end": p.ends_at.isoformat(),
                "quota": {"per_day": p.quota_per_day, "total": p.quota_total},
                "feedback": p.feedback,
                "leaderboard": p.leaderboard,
                "accepts": p.accepts,
            }
            for p in phases
        ],
        "tasks": [
            {
                "id": t.task_id,
                "version": t.task_version,
                "public_hash": t.public_hash,
                "public_split": t.public_split,
            }
            | ({"task_hash": t.task_hash} if staff else {})
            for t in tasks
        ],
    }


@router.get("")
def list_campaigns(
    s: SessionDep, user: OptionalUser, offset: Offset = 0, limit: Limit = 50
) -> dict[str, Any]:
    rows = s.scalars(select(Campaign).order_by(Campaign.id).offset(offset).limit(limit)).all()
    staff = is_staff(user)
    return {"items": [_describe(s, c, staff) for c in rows], "offset": offset, "limit": limit}


@router.get("/{campaign_id}")
def get_campaign(campaign_id: Id, s: SessionDep, user: OptionalUser) -> dict[str, Any]:
    campaign = s.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return _describe(s, campaign, is_staff(user))
