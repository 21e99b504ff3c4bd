"""``/api/campaigns/{id}/registration``, ``/api/systems``, and data downloads (JSON Lines).

A hidden split downloads as ids and inputs only, for registered teams and staff; references
never leave the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from palmares.campaigns import create_system, is_staff, register, task_data
from palmares.store import System
from palmares.web.deps import DB, CurrentUser, Token

router = APIRouter(prefix="/api", tags=["participation"])


class RegistrationBody(BaseModel):
    accept_rules: bool


@router.post("/campaigns/{campaign_id}/registration", status_code=201)
def post_registration(
    campaign_id: int, body: RegistrationBody, token: Token, user: CurrentUser, db: DB
) -> dict[str, Any]:
    register(db, token or "", campaign_id, body.accept_rules)
    return {"campaign": campaign_id, "registered": True}


class SystemBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    model_card: dict[str, Any] = Field(default_factory=dict)


@router.post("/systems", status_code=201)
def post_system(body: SystemBody, token: Token, user: CurrentUser, db: DB) -> dict[str, Any]:
    system_id = create_system(db, token or "", body.name, body.description, body.model_card)
    return {"id": system_id, "name": body.name}


@router.get("/systems")
def list_systems(user: CurrentUser, db: DB) -> dict[str, Any]:
    with db() as s:
        query = select(System).order_by(System.id)
        if not is_staff(user):
            query = query.where(System.team_id == user.team_id)
        rows = s.scalars(query).all()
    return {
        "items": [
            {"id": r.id, "name": r.name, "description": r.description, "model_card": r.model_card}
            for r in rows
        ]
    }


@router.get("/campaigns/{campaign_id}/tasks/{task_id}/data/{split}")
def get_data(campaign_id: int, task_id: str, split: str, token: Token, db: DB) -> StreamingResponse:
    records = task_data(db, token, campaign_id, task_id, split)
    first = next(records, None)  # permission errors are raised here, before streaming starts

    def lines() -> Iterator[bytes]:
        if first is not None:
            yield (json.dumps(first, ensure_ascii=False) + "\n").encode()
        for record in records:
            yield (json.dumps(record, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
