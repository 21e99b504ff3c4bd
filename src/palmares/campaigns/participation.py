"""What participants do besides submitting: register (accepting the rules), describe systems,
download data. Data never includes hidden references: a hidden split gives ids and inputs only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.audit import record
from palmares.campaigns.service import (
    Forbidden,
    authenticate,
    is_registered,
    is_staff,
    require_participant,
)
from palmares.core import InputError
from palmares.store import Campaign, CampaignTask, Registration, System
from palmares.tasks import load_task


def register(
    db: sessionmaker[Session],
    token: str,
    campaign_id: int,
    accept_rules: bool,
    now: datetime | None = None,
) -> None:
    """Register the caller's team to a campaign; the rules must be accepted (idempotent)."""
    now = now or datetime.now(UTC)
    if not accept_rules:
        raise InputError("registering means accepting the campaign's rules", field="accept_rules")
    with db.begin() as session:
        user = authenticate(session, token)
        team_id = require_participant(user, "can do this")
        if session.get(Campaign, campaign_id) is None:
            raise Forbidden(f"no campaign {campaign_id}")
        if is_registered(session, campaign_id, team_id):
            return
        session.add(
            Registration(
                campaign_id=campaign_id, team_id=team_id, accepted_by=user.id, accepted_at=now
            )
        )
        record(session, user.name, "campaign.register", {"campaign": campaign_id}, now)


def create_system(
    db: sessionmaker[Session],
    token: str,
    name: str,
    description: str = "",
    model_card: dict[str, Any] | None = None,
) -> int:
    now = datetime.now(UTC)
    with db.begin() as session:
        user = authenticate(session, token)
        team_id = require_participant(user, "can do this")
        taken = session.scalar(select(System).where(System.team_id == team_id, System.name == name))
        if taken is not None:
            raise InputError(f"your team already has a system named {name!r}", field="name")
        system = System(
            team_id=team_id,
            name=name,
            description=description,
            model_card=model_card or {},
            created_at=now,
        )
        session.add(system)
        session.flush()
        record(session, user.name, "system.create", {"system": system.id, "name": name}, now)
        return system.id


def task_data(
    db: sessionmaker[Session], token: str | None, campaign_id: int, task_id: str, split: str
) -> Iterator[dict[str, Any]]:
    """The items of a split: all fields of a public split; ids and inputs of the hidden one,
    for registered teams and staff. Anything else is refused."""
    with db() as session:
        entry = session.scalar(
            select(CampaignTask).where(
                CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id
            )
        )
        if entry is None or split not in (entry.public_split, entry.hidden_split):
            raise Forbidden(f"no downloadable split {split!r} of task {task_id!r}")
        hidden = split == entry.hidden_split and split != entry.public_split
        if hidden:
            user = authenticate(session, token)
            if not is_staff(user) and not is_registered(session, campaign_id, user.team_id):
                raise Forbidden("register to the campaign to download its test inputs")
        spec_path = entry.spec_path
    items = load_task(spec_path).items(split)
    for i in range(len(items)):
        fields = {name: column[i] for name, column in items.inputs.items()}
        if hidden:
            yield {"id": items.ids[i], "inputs": fields}
        else:
            yield {"id": items.ids[i], "inputs": fields, "reference": items.references[i]}
