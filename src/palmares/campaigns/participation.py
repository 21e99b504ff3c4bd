"""What participants do besides submitting: register (accepting the rules; with
``campaign.approval``, an organiser approves or refuses the registration), describe systems,
download data. Data never includes hidden references: a hidden split gives ids and inputs only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.audit import record
from palmares.campaigns.invitations import admitted, redeem, signup_mode
from palmares.campaigns.names import (
    clean_card,
    clean_name,
    clean_text,
    keyed,
    look_alike,
    unique_names,
)
from palmares.campaigns.service import (
    Forbidden,
    authenticate,
    is_staff,
    registration_status,
    require_participant,
)
from palmares.campaigns.spec import RegistrationStatus, SignupMode
from palmares.core import InputError, Message
from palmares.store import Campaign, CampaignTask, Registration, System, Team, User
from palmares.tasks import load_task


def register(
    db: sessionmaker[Session],
    token: str,
    campaign_id: int,
    accept_rules: bool,
    now: datetime | None = None,
    invitation: str | None = None,
) -> RegistrationStatus:
    """Register the caller's team to a campaign; the rules must be accepted (idempotent: a
    second call returns the registration's status as it is, a refused one stays refused).
    With ``campaign.approval`` the registration starts ``pending``; else ``approved``.

    The challenge's sign-up mode applies here too, since accounts are server-wide: in
    ``invitation`` mode a team that has not joined the challenge yet (a member redeemed one of
    its codes, or the team registered to another of its campaigns) gives a fresh code
    (``invitation``, then used by the caller); in ``closed`` mode it is refused."""
    now = now or datetime.now(UTC)
    if not accept_rules:
        raise InputError(
            Message("registering means accepting the campaign's rules"), field="accept_rules"
        )
    with db.begin() as session:
        user = authenticate(session, token)
        team_id = require_participant(user, "can do this")
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise Forbidden(Message("no campaign {campaign}", campaign=campaign_id))
        known = registration_status(session, campaign_id, team_id)
        if known is not None:
            return known
        used = None
        mode = signup_mode(session, campaign.challenge_id)
        if mode is not SignupMode.OPEN and not admitted(session, campaign.challenge_id, team_id):
            if mode is SignupMode.CLOSED:
                raise Forbidden(Message("this challenge takes no new teams"))
            used = redeem(session, [campaign.challenge_id], invitation, user.id, now)
        status = RegistrationStatus.PENDING if campaign.approval else RegistrationStatus.APPROVED
        session.add(
            Registration(
                campaign_id=campaign_id,
                team_id=team_id,
                accepted_by=user.id,
                accepted_at=now,
                status=status,
            )
        )
        payload: dict[str, Any] = {"campaign": campaign_id, "status": status.value}
        if used is not None:
            payload["invitation"] = used
        record(session, user.name, "campaign.register", payload, now)
        return status


def decide_registration(
    db: sessionmaker[Session],
    campaign_id: int,
    team: str,
    approve: bool,
    actor: str,
    now: datetime | None = None,
) -> RegistrationStatus:
    """An organiser approves (or refuses) a team's registration, by the team's exact name;
    audited (``registration.approve`` / ``registration.refuse``, with the status before). An
    approved team may be refused later (its submissions stay as they are, new ones are
    refused); a refused one approved. Who may do it is the caller's check (console: an
    organiser or admin; the CLI: whoever holds the database)."""
    now = now or datetime.now(UTC)
    decided = RegistrationStatus.APPROVED if approve else RegistrationStatus.REFUSED
    with db.begin() as session:
        row = session.scalar(
            select(Registration)
            .join(Team, Team.id == Registration.team_id)
            .where(Registration.campaign_id == campaign_id, Team.name == team)
            .with_for_update()
        )
        if row is None:
            raise InputError(
                Message(
                    "team {team} has not registered to campaign {campaign}",
                    team=repr(team),
                    campaign=campaign_id,
                ),
                field="team",
            )
        before = row.status
        row.status = decided
        action = "registration.approve" if approve else "registration.refuse"
        payload = {"campaign": campaign_id, "team": team, "before": before, "after": decided.value}
        record(session, actor, action, payload, now)
    return decided


def registrations(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's registrations, pending first then by time: team, members, status, when
    and by whom the rules were accepted (for the organiser console)."""
    rows = session.execute(
        select(Registration, Team.name, User.name)
        .join(Team, Team.id == Registration.team_id)
        .join(User, User.id == Registration.accepted_by)
        .where(Registration.campaign_id == campaign_id)
        .order_by(Registration.accepted_at, Registration.id)
    ).all()
    teams = [r.team_id for r, _, _ in rows]
    members: dict[int | None, list[str]] = {}
    for team_id, name in session.execute(
        select(User.team_id, User.name).where(User.team_id.in_(teams)).order_by(User.name)
    ):
        members.setdefault(team_id, []).append(name)
    shown = [
        {
            "team_id": r.team_id,
            "team": team,
            "members": members.get(r.team_id, []),
            "status": RegistrationStatus(r.status),
            "accepted_at": r.accepted_at,
            "accepted_by": by,
        }
        for r, team, by in rows
    ]
    return sorted(shown, key=lambda row: row["status"] != RegistrationStatus.PENDING)


def create_system(
    db: sessionmaker[Session],
    token: str,
    name: str,
    description: str = "",
    model_card: dict[str, Any] | None = None,
) -> int:
    now = datetime.now(UTC)
    name = clean_name(name)
    description = clean_text(description, "description", multiline=True, max_length=10_000)
    card = clean_card(model_card or {})
    with unique_names(), db.begin() as session:
        user = authenticate(session, token)
        team_id = require_participant(user, "can do this")
        taken = look_alike(session, System, name, team_id)
        if taken is not None:
            raise InputError(
                Message(
                    "your team already has a system named {name} (or one that looks like it)",
                    name=repr(taken),
                ),
                field="name",
            )
        system = System(
            team_id=team_id,
            **keyed(name),
            description=description,
            model_card=card,
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
            raise Forbidden(
                Message(
                    "no downloadable split {split} of task {task}",
                    split=repr(split),
                    task=repr(task_id),
                )
            )
        hidden = split == entry.hidden_split and split != entry.public_split
        if hidden:
            user = authenticate(session, token)
            status = registration_status(session, campaign_id, user.team_id)
            if not is_staff(user) and status is not RegistrationStatus.APPROVED:
                raise Forbidden(
                    Message("register to the campaign to download its test inputs")
                    if status is None
                    else Message("your team's registration is not approved: no test inputs yet")
                )
        spec_path = entry.spec_path
    items = load_task(spec_path).items(split)
    for i in range(len(items)):
        fields = {name: column[i] for name, column in items.inputs.items()}
        if hidden:
            yield {"id": items.ids[i], "inputs": fields}
        else:
            yield {"id": items.ids[i], "inputs": fields, "reference": items.references[i]}
