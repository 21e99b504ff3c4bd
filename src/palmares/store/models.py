"""The campaign database's tables (SQLAlchemy 2). Schema changes go through Alembic migrations
(``store/migrations``), never ``create_all``: a test checks the models and the migrations agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone and hands back naive datetimes; converting here, once, spares
    every comparison with ``datetime.now(UTC)`` its own fix-up.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[Any]: JSON,
    }


class Challenge(Base):
    __tablename__ = "challenges"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # who may sign up through this challenge: open, invitation (a code from an organiser), closed
    signup: Mapped[str] = mapped_column(String(20), default="open", server_default="open")


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("challenge_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[str] = mapped_column(ForeignKey("challenges.id"))
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    rules: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # registrations wait for an organiser's approval before the team may submit
    approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CampaignTask(Base):
    """A task of a campaign, pinned by its content hash, with its public and hidden splits."""

    __tablename__ = "campaign_tasks"
    __table_args__ = (UniqueConstraint("campaign_id", "task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    task_id: Mapped[str] = mapped_column(String(100))
    task_version: Mapped[int] = mapped_column(Integer)
    task_hash: Mapped[str] = mapped_column(String(64))  # over every split: staff and audit only
    # what the public sees: the hash of the spec and the public splits, nothing hidden in it
    public_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    spec_path: Mapped[str] = mapped_column(Text)
    public_split: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hidden_split: Mapped[str] = mapped_column(String(100))
    #: the same task in the campaign this one carries anchors from, and the ids of the hidden
    #: items both share with identical content: progress is measured on exactly those
    anchor_source_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_tasks.id", name="fk_campaign_tasks_anchor_source"), nullable=True
    )
    anchor_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    #: seeds the public/private partition of the hidden split (and its bootstrap resamples):
    #: random per campaign task and never shown, so nobody can tell which hidden items count
    #: in the public part. Null for tasks created before it existed (their old seed is kept).
    split_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("campaign_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    kind: Mapped[str] = mapped_column(String(20))  # dev, test, final
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    quota_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quota_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    feedback: Mapped[str] = mapped_column(String(20))  # full, rounded, none, ladder
    #: with ``ladder`` feedback: the fixed step η of Blum & Hardt's Algorithm 1 (in the primary
    #: metric's units); None: the parameter-free Ladder (a paired test against the team's best)
    ladder_step: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: "public": anyone sees the public part's ranking during the phase; "hidden": staff only
    leaderboard: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    accepts: Mapped[list[str]] = mapped_column(JSON)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("name_key", name="uq_teams_name_key"),
        UniqueConstraint("name_key_cased", name="uq_teams_name_key_cased"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # the name's confusable-insensitive keys (campaigns/names.py): unique, so look-alikes clash
    name_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    name_key_cased: Mapped[str | None] = mapped_column(String(400), nullable=True)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("name_key", name="uq_users_name_key"),
        UniqueConstraint("name_key_cased", name="uq_users_name_key_cased"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    name_key_cased: Mapped[str | None] = mapped_column(String(400), nullable=True)
    role: Mapped[str] = mapped_column(String(20))  # admin, organiser, participant, auditor
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # argon2id hash; None for API-only users (created without a password)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)


class Token(Base):
    """An API token or a browser session, stored as the SHA-256 of its text (the text is shown
    once, at creation, or set once as the session cookie). A session expires and carries the
    CSRF token its forms must echo."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(10), default="api", server_default="api")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    csrf: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginFailure(Base):
    """A failed login, by account name and client address: too many within a window and the
    next attempts are refused before any password is checked (``campaigns.throttle``)."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SignUp(Base):
    """One account created through the sign-up page, by client address: the sign-up throttle
    counts these within its window."""

    __tablename__ = "signups"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Invitation(Base):
    """A one-use code an organiser hands out to let someone sign up through a challenge in
    invitation mode; only its SHA-256 is stored."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[str] = mapped_column(ForeignKey("challenges.id"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class QuotaUsage(Base):
    """Submissions counted against a quota: one row per (team, phase, period), where the period
    is a UTC day (``2027-03-01``) or ``total``. Reserving is one conditional UPDATE per row
    (``used < limit``), so the database, not the application, refuses the submission too many."""

    __tablename__ = "quota_usage"
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    campaign_task_id: Mapped[int] = mapped_column(ForeignKey("campaign_tasks.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # predictions, endpoint, model_file
    system_id: Mapped[int | None] = mapped_column(
        ForeignKey("systems.id", name="fk_submissions_system"), nullable=True
    )
    #: "hidden" (ranked) or "public" (the public split: per-item results shown, never ranked)
    split: Mapped[str] = mapped_column(String(10), default="hidden", server_default="hidden")
    artifact: Mapped[str] = mapped_column(String(64))  # SHA-256 of the uploaded file, or ""
    status: Mapped[str] = mapped_column(String(20))  # queued, running, scored, failed
    #: an endpoint submission: base URL and model name (shown to the team and staff)
    endpoint_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    endpoint_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: the endpoint's API key: read by the worker only, never by any API response or log
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Job(Base):
    """Scoring work for one submission. A worker claims it with a lease that its heartbeat
    extends; a job whose lease ran out (its worker died) is claimed again, at most
    ``max_attempts`` times, then fails with its reason — unless its last attempt kept some work
    (``progress``, e.g. a model's answers in the response cache, beyond ``progress_at_claim``):
    a long run cut by restarts is not a job that kills its workers."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_at_claim: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ScoreRecord(Base):
    """A submission's scores on the public and the private part of the hidden split (one row per
    submission: a job that runs twice cannot score twice)."""

    __tablename__ = "scores"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    public: Mapped[dict[str, Any]] = mapped_column(JSON)
    private: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: per-item results, kept only for submissions on the public split
    items: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    primary_metric: Mapped[str] = mapped_column(String(100))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: in a phase with ``ladder`` feedback, the Ladder's decision on this submission
    #: (``accepted``, ``released``: the team's public score after it, ``best``, ``precision``)
    ladder: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ScoreEvidence(Base):
    """What the leaderboard's statistics need of a scored submission on one part (public,
    private) of the hidden split; read by the server only, never sent in a response or a page.

    ``replicates``: the primary metric on ``B`` bootstrap resamples of the part's items, drawn
    from a seed fixed per campaign, task and part, so that every submission is resampled with
    the same items (paired: rank intervals and pairwise tests compare columns of these);
    ``items``: per-item primary scores (a mean metric, NaN outside its denominator) or per-item
    sufficient statistics (a corpus metric), as an ``.npz`` archive (the Ladder reads them)."""

    __tablename__ = "score_evidence"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    part: Mapped[str] = mapped_column(String(10), primary_key=True)  # public, private
    metric: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # mean, corpus
    #: SHA-256 of the part's item ids in order: only evidence on the same items is compared
    items_digest: Mapped[str] = mapped_column(String(64))
    n: Mapped[int] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    replicates: Mapped[bytes] = mapped_column(LargeBinary)  # float64, B values
    items: Mapped[bytes] = mapped_column(LargeBinary)


class LadderState(Base):
    """The Ladder of one team on one task in one phase: its best submission so far and the
    public score released for it. Updated in the worker's scoring transaction only."""

    __tablename__ = "ladder_states"
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), primary_key=True)
    campaign_task_id: Mapped[int] = mapped_column(ForeignKey("campaign_tasks.id"), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    released: Mapped[float] = mapped_column(Float)
    precision: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Snapshot(Base):
    """A frozen leaderboard: published when a phase ends; a rescore adds a new one and keeps the
    old (``supersedes``)."""

    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    task_id: Mapped[str] = mapped_column(String(100))
    public: Mapped[list[Any]] = mapped_column(JSON)
    private: Mapped[list[Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """An append-only, hash-chained log: each event's ``hash`` covers its content and the
    previous event's hash, so changing or removing any event breaks every later link."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row holding the chain's last hash: appending locks it, so appends never fork."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))


class Registration(Base):
    """A team registered to a campaign, having accepted its rules (who, when)."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("campaign_id", "team_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    accepted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # approved (may submit), pending (the campaign asks an organiser's approval), refused
    status: Mapped[str] = mapped_column(String(20), default="approved", server_default="approved")


class System(Base):
    """A team's AI system, with its model card (parameters, licence, open weights or not)."""

    __tablename__ = "systems"
    __table_args__ = (
        UniqueConstraint("team_id", "name"),
        UniqueConstraint("team_id", "name_key", name="uq_systems_team_name_key"),
        UniqueConstraint("team_id", "name_key_cased", name="uq_systems_team_name_key_cased"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    name_key_cased: Mapped[str | None] = mapped_column(String(400), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    model_card: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
