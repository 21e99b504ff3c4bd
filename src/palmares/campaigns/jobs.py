"""The job queue in the database: claim with a lease, heartbeat, finish once.

A worker claims the oldest job that is queued, or running with an expired lease (its worker
died), in one transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so workers never wait on each
other; SQLite: the write lock taken at BEGIN). Finishing is conditional on still holding the job
(``worker`` and ``status``): a worker that lost its lease cannot overwrite the new holder's work.

The database may go away for a while (PostgreSQL restarted, a connection dropped): ``patiently``
retries an action whose failure is ``transient``, so a worker outlives the outage instead of
dying with the job in its hands. Retrying a finishing transaction is safe: if the first commit
did reach the server, the retry finds the job no longer running and writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from palmares.store import Job, Submission

log = logging.getLogger(__name__)
T = TypeVar("T")


def claim(db: sessionmaker[Session], worker: str, now: datetime, lease_s: float) -> int | None:
    """The id of the job this worker now holds, or None when there is nothing to do."""
    with db.begin() as session:
        _fail_exhausted(session, now)
        query = (
            select(Job)
            .where(
                or_(
                    Job.status == "queued",
                    (Job.status == "running") & (Job.lease_until < now) & _may_try_again(),
                )
            )
            .order_by(Job.created_at, Job.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = session.scalar(query)
        if job is None:
            return None
        job.status, job.worker = "running", worker
        job.lease_until = now + timedelta(seconds=lease_s)
        job.attempts += 1
        job.progress_at_claim = job.progress
        session.execute(
            update(Submission).where(Submission.id == job.submission_id).values(status="running")
        )
        return job.id


def _may_try_again() -> ColumnElement[bool]:
    """A job whose worker died may be claimed again: attempts are left, or its last attempt
    kept some work (a model's answers cached), so the next one goes further."""
    return or_(Job.attempts < Job.max_attempts, Job.progress > Job.progress_at_claim)


def _fail_exhausted(session: Session, now: datetime) -> None:
    """Jobs whose worker died on every attempt fail, with the reason shown to their team (an
    attempt that kept work does not count: ``_may_try_again``)."""
    dead = session.scalars(
        select(Job).where(Job.status == "running", Job.lease_until < now, ~_may_try_again())
    ).all()
    for job in dead:
        job.status = "failed"
        job.error = f"the worker stopped during each of {job.attempts} attempts"
        session.execute(
            update(Submission).where(Submission.id == job.submission_id).values(status="failed")
        )


def heartbeat(
    db: sessionmaker[Session],
    job_id: int,
    worker: str,
    now: datetime,
    lease_s: float,
    progress: int | None = None,
) -> bool:
    """Extend the lease (and record ``progress``: work kept so far); False when the job is no
    longer this worker's."""
    values: dict[str, object] = {"lease_until": now + timedelta(seconds=lease_s)}
    if progress is not None:
        values["progress"] = progress
    with db.begin() as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker == worker, Job.status == "running")
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def holds(session: Session, job_id: int, worker: str) -> bool:
    """Within the finishing transaction: does this worker still hold the job? (Locks the row.)"""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == "running")
        .values(status="done")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def transient(exc: BaseException) -> bool:
    """A database error that waiting may cure: the server down or restarting, a connection cut,
    a lock held too long. (A constraint violation or a bad query is not: retrying repeats it.)"""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def patiently(action: Callable[[], T], what: str, *, patience_s: float = 300.0) -> T:
    """``action()``, retried with a growing pause (0.1 s to 2 s) while it fails transiently, for
    at most ``patience_s`` seconds; then, or on any other error, the error is raised."""
    delay, deadline = 0.1, time.monotonic() + patience_s
    while True:
        try:
            return action()
        except DBAPIError as exc:
            if not transient(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: database unavailable (%s), retrying in %.1f s", what, exc.orig, delay)
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
