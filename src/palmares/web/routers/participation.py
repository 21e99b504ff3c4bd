"""``/api/campaigns/{id}/registration``, ``/api/systems``, and data downloads (JSON Lines).

A registration answers with its status: ``approved``, or ``pending`` while the campaign waits
for an organiser's approval (``refused`` after a refusal). A hidden split downloads as ids and
inputs only, for teams whose registration is approved and staff; references never leave the
server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from palmares.campaigns import create_system, is_staff, register, registration_status, task_data
from palmares.campaigns.service import Forbidden, require_participant
from palmares.store import Campaign, System
from palmares.web.deps import DB, CurrentUser, Token
from palmares.web.routers._params import NO_NUL, Id, Name

router = APIRouter(prefix="/api", tags=["participation"])


class RegistrationBody(BaseModel):
    accept_rules: bool
    invitation: str | None = Field(
        default=None,
        max_length=200,
        pattern=NO_NUL,
        description="a one-use code of the challenge, when it admits teams by invitation",
    )


@router.post("/campaigns/{campaign_id}/registration", status_code=201)
def post_registration(
    campaign_id: Id, body: RegistrationBody, token: Token, user: CurrentUser, db: DB
) -> dict[str, Any]:
    status = register(db, token or "", campaign_id, body.accept_rules, invitation=body.invitation)
    return {"campaign": campaign_id, "registered": True, "status": status.value}


@router.get("/campaigns/{campaign_id}/registration")
def get_registration(campaign_id: Id, user: CurrentUser, db: DB) -> dict[str, Any]:
    """The caller's team's registration: ``status`` approved, pending, refused, or null."""
    team_id = require_participant(user, "has a registration")
    with db() as s:
        if s.get(Campaign, campaign_id) is None:
            raise Forbidden(f"no campaign {campaign_id}")
        status = registration_status(s, campaign_id, team_id)
    return {
        "campaign": campaign_id,
        "registered": status is not None,
        "status": None if status is None else status.value,
    }


class SystemBody(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    description: str = Field(default="", max_length=10_000, pattern=NO_NUL)
    model_card: dict[str, Any] = Field(default_factory=dict)

    @field_validator("model_card")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        # PostgreSQL's JSON refuses the NUL character, which JSON itself allows
        if "\\u0000" in json.dumps(value):
            raise ValueError("the model card may not contain the NUL character (\\u0000)")
        return value


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


# documented as what it is: JSON Lines, one item per line (not one JSON document)
JSON_LINES = {200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    "description": "the split's items, one JSON object per line"}}  # fmt: skip


@router.get(
    "/campaigns/{campaign_id}/tasks/{task_id}/data/{split}",
    response_class=StreamingResponse,
    responses=JSON_LINES,  # type: ignore[arg-type]
)
def get_data(
    campaign_id: Id, task_id: Name, split: Name, token: Token, db: DB
) -> StreamingResponse:
    records = task_data(db, token, campaign_id, task_id, split)
    first = next(records, None)  # permission errors are raised here, before streaming starts

    def lines() -> Iterator[bytes]:
        if first is not None:
            yield (json.dumps(first, ensure_ascii=False) + "\n").encode()
        for record in records:
            yield (json.dumps(record, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
