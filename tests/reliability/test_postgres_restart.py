"""PostgreSQL stopped and started again under a running worker (a private server, see conftest):
the worker waits, reconnects and completes its job exactly once; a worker whose heartbeats were
lost in the outage, and whose job was meanwhile claimed by another, writes nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import EXAMPLE, join, open_campaign_file
from tests.reliability.conftest import PrivatePostgres, wait_until

from palmares.campaigns import Artifacts, create_campaign, run_one, submit_predictions
from palmares.store import Job, ScoreRecord, Submission, migrate, open_engine, sessions
from palmares.store.models import AuditEvent


def _campaign(url: str, folder: Path) -> tuple[sessionmaker[Session], Artifacts, int]:
    engine = open_engine(url)
    migrate(engine)
    db = sessions(engine)
    return db, Artifacts(folder / "artifacts"), create_campaign(db, open_campaign_file(folder))


def _submit(db: sessionmaker[Session], artifacts: Artifacts, campaign_id: int, team: str) -> str:
    token = join(db, f"user-{team}", team, campaign_id)
    return submit_predictions(
        db, artifacts, token, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl"
    )


def _worker(
    url: str, folder: Path, pause: float, lease: float, log: Path
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PALMARES_FAULT_WORKER_PAUSE": str(pause)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "palmares.cli",
                "worker",
                "--db",
                url,
                "--artifacts",
                str(folder / "artifacts"),
                "--lease",
                str(lease),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _job(db: sessionmaker[Session], sid: str) -> Job | None:
    """The submission's job, or None while the database is away."""
    try:
        with db() as session:
            return session.scalar(select(Job).where(Job.submission_id == sid))
    except OperationalError:
        return None


def _status(db: sessionmaker[Session], sid: str) -> str | None:
    job = _job(db, sid)
    return job.status if job else None


def _once(db: sessionmaker[Session], sid: str) -> dict[str, Any]:
    """Exactly one score row and one 'submission.score' record; scored; its job done."""
    with db() as session:
        scores = session.scalar(
            select(func.count()).select_from(ScoreRecord).where(ScoreRecord.submission_id == sid)
        )
        audits = [
            e.actor
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "submission.score")
            )
            if e.payload["submission"] == sid
        ]
        submission = session.get_one(Submission, sid)
        job = session.scalar(select(Job).where(Job.submission_id == sid))
        assert job is not None
        assert scores == 1 and len(audits) == 1, (scores, audits)
        assert submission.status == "scored" and job.status == "done"
        return {"attempts": job.attempts, "worker": job.worker, "audit_actor": audits[0]}


def test_worker_reconnects_after_a_restart_and_completes_the_job_once(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_postgres.new_database()
    db, artifacts, campaign_id = _campaign(url, tmp_path)
    first = _submit(db, artifacts, campaign_id, "lab-a")
    log = tmp_path / "worker.log"
    worker = _worker(url, tmp_path, pause=2, lease=2, log=log)
    try:
        # 1. down while the worker holds a job: its pause (2 s) ends in the outage, so its first
        # read of the job and its heartbeats meet a dead server
        assert wait_until(lambda: _status(db, first) == "running", 30), log.read_text()
        time.sleep(0.5)
        down = time.monotonic()
        private_postgres.stop()
        time.sleep(2.0)
        private_postgres.start()
        up = time.monotonic()
        wait_until(lambda: _status(db, first) == "done" or worker.poll() is not None, 60)
        assert _status(db, first) == "done", log.read_text()
        recovered = time.monotonic() - up
        assert worker.poll() is None, log.read_text()
        # 2. down while the worker is idle, polling the queue: it keeps polling
        private_postgres.stop()
        time.sleep(2.0)
        private_postgres.start()
        back = time.monotonic()
        second = _submit(db, artifacts, campaign_id, "lab-b")
        wait_until(lambda: _status(db, second) == "done" or worker.poll() is not None, 60)
        assert _status(db, second) == "done", log.read_text()
        idle_recovered = time.monotonic() - back  # includes the job's own 2 s pause
        assert worker.poll() is None, log.read_text()
    finally:
        worker.terminate()
        worker.wait()
    name = f"{socket.gethostname()}:{worker.pid}"
    for sid in (first, second):
        assert _once(db, sid) == {"attempts": 1, "worker": name, "audit_actor": name}
    text = log.read_text()
    assert "database unavailable" in text and "heartbeat failed" in text, text
    print(
        f"outage {up - down:.1f} s (stop, 2 s, start) during a job: done {recovered:.1f} s after "
        f"the server was back; idle outage: next job done {idle_recovered:.1f} s after (2 s of "
        "it its pause); worker alive, each job scored once, on its first attempt; retried: "
        f"{text.count('heartbeat failed')} heartbeats, {text.count('reading it: database')} "
        f"reads of the job, {text.count(chr(10) + 'database unavailable')} polls of the queue"
    )


def test_a_heartbeat_lost_in_an_outage_does_not_score_twice(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_postgres.new_database()
    db, artifacts, campaign_id = _campaign(url, tmp_path)
    sid = _submit(db, artifacts, campaign_id, "lab-a")
    log = tmp_path / "worker-a.log"
    worker = _worker(url, tmp_path, pause=5, lease=1, log=log)  # A: claims, then pauses 5 s
    try:
        assert wait_until(lambda: _status(db, sid) == "running", 30), log.read_text()
        private_postgres.stop()  # A's heartbeats fail for longer than its 1 s lease
        time.sleep(2.0)
        private_postgres.start()
        # B sees A's lease lapsed (its clock 2 s ahead: the race B can win against A's first
        # heartbeat after the outage), claims the job and scores it while A still pauses
        ahead = lambda: datetime.now(UTC) + timedelta(seconds=2)  # noqa: E731
        assert run_one(db, artifacts, worker="B", lease_s=30, clock=ahead) is not None
        assert _once(db, sid) == {"attempts": 2, "worker": "B", "audit_actor": "B"}
        # A wakes up, scores, and at commit finds the job no longer its own: it writes nothing
        wait_until(lambda: "lease lost" in log.read_text() or worker.poll() is not None, 30)
        assert "lease lost" in log.read_text(), log.read_text()
        assert worker.poll() is None, log.read_text()
    finally:
        worker.terminate()
        worker.wait()
    assert _once(db, sid) == {"attempts": 2, "worker": "B", "audit_actor": "B"}
