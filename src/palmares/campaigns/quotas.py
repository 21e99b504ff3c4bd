"""Reserving a submission against a team's quotas, atomically, in the database.

Never check-then-insert: two requests could both see 4 of 5 used and both insert. Each period
(the UTC day, and ``total``) has one row; the reservation makes sure the row exists (insert, or
nothing on conflict), then increments it with ``UPDATE … WHERE used < limit``. The database
serialises concurrent updates of one row (PostgreSQL re-checks the condition on the row it locked;
SQLite takes the write lock at BEGIN), so exactly ``limit`` reservations succeed. The caller's
transaction rolls every row back if any period is full, or if anything after fails.

A submission whose scoring failed because of the platform (not of its file) is given its
quota back (:func:`give_back`, called by the worker in the transaction that marks it failed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from palmares.core import Message, PalmaresError
from palmares.store import Phase, QuotaUsage


class QuotaExceeded(PalmaresError):
    def __init__(self, period: str, limit: int) -> None:
        self.period, self.limit = period, limit
        when = Message("today (UTC)") if period != "total" else Message("in this phase")
        super().__init__(
            Message(
                "quota reached: {limit} submission(s) {when}; nothing was submitted",
                limit=limit, when=when,
            )
        )  # fmt: skip


def reserve(session: Session, team_id: int, phase: Phase, now: datetime) -> None:
    """Count one submission of ``team_id`` in ``phase``, or raise :class:`QuotaExceeded`."""
    periods = [(now.date().isoformat(), phase.quota_per_day), ("total", phase.quota_total)]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for period, limit in periods:
        key = {"team_id": team_id, "phase_id": phase.id, "period": period}
        session.execute(insert(QuotaUsage).values(**key, used=0).on_conflict_do_nothing())
        statement = (
            update(QuotaUsage)
            .where(
                QuotaUsage.team_id == team_id,
                QuotaUsage.phase_id == phase.id,
                QuotaUsage.period == period,
            )
            .values(used=QuotaUsage.used + 1)
        )
        if limit is not None:
            statement = statement.where(QuotaUsage.used < limit)
        if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
            raise QuotaExceeded(period, limit or 0)


def give_back(session: Session, team_id: int, phase_id: int, submitted_at: datetime) -> list[str]:
    """Undo :func:`reserve` for a submission made at ``submitted_at`` (its scoring failed
    because of the platform): one less used in each period it was counted in, the UTC day it
    was made and ``total``, never below 0; the periods given back. Runs in the caller's
    transaction (the one that marks the submission failed)."""
    periods = []
    for period in (submitted_at.date().isoformat(), "total"):
        statement = (
            update(QuotaUsage)
            .where(
                QuotaUsage.team_id == team_id,
                QuotaUsage.phase_id == phase_id,
                QuotaUsage.period == period,
                QuotaUsage.used > 0,
            )
            .values(used=QuotaUsage.used - 1)
        )
        if session.execute(statement).rowcount == 1:  # type: ignore[attr-defined]
            periods.append(period)
    return periods
