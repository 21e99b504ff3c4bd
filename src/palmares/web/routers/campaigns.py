"""``/api/campaigns``: what anyone may read about campaigns (no data, no references)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from palmares.store import Campaign, CampaignTask, Phase
from palmares.web.deps import SessionDep
from palmares.web.errors import NotFound
from palmares.web.routers._params import Id, Limit, Offset

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


def _describe(s: Session, campaign: Campaign) -> dict[str, Any]:
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
                "hash": t.task_hash,
                "public_split": t.public_split,
            }
            for t in tasks
        ],
    }


@router.get("")
def list_campaigns(s: SessionDep, offset: Offset = 0, limit: Limit = 50) -> dict[str, Any]:
    rows = s.scalars(select(Campaign).order_by(Campaign.id).offset(offset).limit(limit)).all()
    return {"items": [_describe(s, c) for c in rows], "offset": offset, "limit": limit}


@router.get("/{campaign_id}")
def get_campaign(campaign_id: Id, s: SessionDep) -> dict[str, Any]:
    campaign = s.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return _describe(s, campaign)
