"""The campaign YAML (campaign as code): challenge, campaign, tasks, phases. Shape only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from palmares.core.spec import usable_path

_SLUG = r"^[a-z0-9][a-z0-9._-]*$"
SubmissionKind = Literal["predictions", "endpoint", "model_file"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _moment(value: Any, end: bool) -> Any:
    """A date means the start of that day (UTC), or for an end, the start of the next one."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value + timedelta(days=1 if end else 0), time(), UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class QuotaSpec(_Strict):
    per_day: int | None = Field(default=None, ge=0, description="per team, per UTC day")
    total: int | None = Field(default=None, ge=0, description="per team, for the whole phase")


class PhaseSpec(_Strict):
    kind: Literal["dev", "test", "final"]
    start: datetime
    end: datetime
    quota: QuotaSpec = QuotaSpec()
    feedback: Literal["full", "rounded", "none", "ladder"] = "full"
    ladder_step: float | None = Field(
        default=None,
        gt=0,
        description="with feedback ladder: the fixed step η (in the primary metric's units); "
        "absent: the parameter-free Ladder",
    )
    leaderboard: Literal["public", "hidden"] = "public"
    accepts: list[SubmissionKind] = Field(default=["predictions"], min_length=1)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> Any:
        return _moment(value, end=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> Any:
        return _moment(value, end=True)

    @model_validator(mode="after")
    def _ordered(self) -> PhaseSpec:
        if self.end <= self.start:
            raise ValueError("the phase ends before it starts")
        if self.ladder_step is not None and self.feedback != "ladder":
            raise ValueError("ladder_step is for a phase with feedback: ladder")
        return self


class TaskEntry(_Strict):
    task: str = Field(
        description="path of a task YAML, relative to the campaign file, or the id of a pack "
        "task (culture-fr; palmares tasks list)"
    )
    public_split: str | None = None
    hidden_split: str

    _paths = field_validator("task")(usable_path)


class SignupMode(StrEnum):
    """Who may join a challenge (``Challenge.signup``): anyone (``open``), the holders of a
    one-use code an organiser hands out (``invitation``), nobody new (``closed``)."""

    OPEN = "open"
    INVITATION = "invitation"
    CLOSED = "closed"


class RegistrationStatus(StrEnum):
    """A team's registration to a campaign (``Registration.status``): with ``campaign.approval``
    it starts ``pending`` and an organiser approves or refuses it; only ``approved`` submits."""

    APPROVED = "approved"
    PENDING = "pending"
    REFUSED = "refused"


class ChallengeInfo(_Strict):
    id: str = Field(pattern=_SLUG, max_length=100)
    title: str = Field(min_length=1)
    signup: SignupMode | None = Field(
        default=None,
        description="open, invitation or closed; absent: open for a new challenge, unchanged "
        "for an existing one (a different mode in a later campaign's YAML updates it, audited)",
    )


class CampaignInfo(_Strict):
    id: str = Field(pattern=_SLUG, max_length=100)
    title: str = Field(min_length=1)
    rules: str | None = Field(default=None, description="path of a Markdown file of rules")
    anchors_from: str | None = Field(
        default=None, description="id of an earlier campaign of the challenge to carry anchors from"
    )
    approval: bool = Field(
        default=False,
        description="registrations wait for an organiser's approval before the team may submit",
    )

    _paths = field_validator("rules")(usable_path)


class CampaignSpec(_Strict):
    challenge: ChallengeInfo
    campaign: CampaignInfo
    tasks: list[TaskEntry] = Field(min_length=1)
    phases: list[PhaseSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> CampaignSpec:
        kinds = [p.kind for p in self.phases]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each phase kind (dev, test, final) may appear once")
        return self
