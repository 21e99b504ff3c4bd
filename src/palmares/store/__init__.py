"""The campaign database: SQLAlchemy 2 models, Alembic migrations, SQLite or PostgreSQL."""

from palmares.store.db import migrate, open_engine, sessions
from palmares.store.models import (
    AuditEvent,
    AuditHead,
    Base,
    Campaign,
    CampaignTask,
    Challenge,
    Job,
    Phase,
    QuotaUsage,
    ScoreRecord,
    Snapshot,
    Submission,
    Team,
    Token,
    User,
)

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Base",
    "Campaign",
    "CampaignTask",
    "Challenge",
    "Job",
    "Phase",
    "QuotaUsage",
    "ScoreRecord",
    "Snapshot",
    "Submission",
    "Team",
    "Token",
    "User",
    "migrate",
    "open_engine",
    "sessions",
]
