"""Workers and leaderboards: jobs scored once, leases, a worker killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import (
    EXAMPLE,
    campaign_file,
    join,
    open_campaign_file,
    pin_partition_seed,
)

from palmares.campaigns import (
    Artifacts,
    claim,
    create_campaign,
    leaderboard,
    run_one,
    submit_predictions,
)
from palmares.campaigns.scoring import public_positions
from palmares.store import Job, ScoreRecord, Submission, migrate, open_engine, sessions
from palmares.tasks import load_task

IN_DEV = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def _two_teams(db: sessionmaker[Session], tmp_path: Path) -> tuple[int, Artifacts, list[str]]:
    campaign_id = create_campaign(db, campaign_file(tmp_path, quota=10))
    pin_partition_seed(db, campaign_id, "avis-fr")
    artifacts = Artifacts(tmp_path / "artifacts")
    lines = (EXAMPLE / "baseline.jsonl").read_text("utf-8").splitlines()
    flipped = tmp_path / "flipped.jsonl"  # team B: every other answer wrong
    rows = [json.loads(line) for line in lines]
    for i, row in enumerate(rows):
        if i % 2:
            row["prediction"] = "négatif" if row["prediction"] == "positif" else "positif"
    flipped.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    ids = []
    for team, file in (("lab-a", EXAMPLE / "baseline.jsonl"), ("lab-b", flipped)):
        token = join(db, f"user-{team}", team, campaign_id)
        ids.append(submit_predictions(db, artifacts, token, campaign_id, "avis-fr", file, IN_DEV))
    return campaign_id, artifacts, ids


def test_worker_scores_and_leaderboard_ranks_with_intervals(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    campaign_id, artifacts, _ids = _two_teams(db, tmp_path)
    clock = lambda: IN_DEV  # noqa: E731
    assert run_one(db, artifacts, worker="w1", clock=clock) is not None
    assert run_one(db, artifacts, worker="w1", clock=clock) is not None
    assert run_one(db, artifacts, worker="w1", clock=clock) is None
    board = leaderboard(db, campaign_id, "avis-fr", "dev")
    assert [r["team"] for r in board] == ["lab-a", "lab-b"] and board[0]["rank"] == 1
    top = board[0]
    assert top["metric"] == "accuracy" and top["ci"][0] <= top["value"] <= top["ci"][1]
    public = public_positions(
        load_task(EXAMPLE / "task.yaml").items("test"), f"{campaign_id}:avis-fr"
    )
    assert top["n"] == len(public) and 0 < len(public) < 48
    private = leaderboard(db, campaign_id, "avis-fr", "dev", part="private")
    assert private[0]["n"] == 48 - len(public)
    with db() as session:
        assert session.scalar(select(func.count()).select_from(ScoreRecord)) == 2
        assert {s.status for s in session.scalars(select(Submission))} == {"scored"}


def test_expired_lease_is_reclaimed_and_scored_once(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    _campaign_id, artifacts, _ids = _two_teams(db, tmp_path)
    first = claim(db, "dead-worker", IN_DEV, lease_s=30)
    assert first is not None
    assert claim(db, "w2", IN_DEV + timedelta(seconds=10), lease_s=30) != first  # still leased
    later = IN_DEV + timedelta(seconds=61)
    assert run_one(db, artifacts, worker="w3", clock=lambda: later) == first  # reclaimed
    with db() as session:
        job = session.get(Job, first)
        assert job is not None and job.attempts == 2 and job.status == "done"
        assert session.scalar(select(func.count()).select_from(ScoreRecord)) == 1


def test_worker_dying_on_every_attempt_fails_with_a_reason(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    _two_teams(db, tmp_path)
    moment = IN_DEV
    job_id = None
    for _ in range(3):
        job_id = claim(db, "doomed", moment, lease_s=1) or job_id
        moment += timedelta(seconds=5)
    claim(db, "w", moment + timedelta(seconds=5), lease_s=1)  # sweeps the exhausted job
    with db() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.status == "failed" and "3 attempts" in (job.error or "")


def test_an_attempt_that_kept_work_does_not_count_towards_failing(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    """A long model run cut by restarts: attempts whose heartbeats reported more answers kept
    (``progress``) give the job another try; once an attempt keeps nothing and the attempts
    are used up, it fails as before."""
    from palmares.campaigns.jobs import heartbeat

    _two_teams(db, tmp_path)
    moment = IN_DEV
    kept_by_attempt = [5, 5, 9, 9]  # attempt 3 kept 4 more answers; attempt 4 kept nothing
    job_id = None
    for kept in kept_by_attempt:
        claimed = claim(db, "restarted", moment, lease_s=1)
        assert claimed is not None and claimed == (job_id or claimed)
        job_id = claimed
        assert heartbeat(db, job_id, "restarted", moment, 1, progress=kept)
        moment += timedelta(seconds=5)  # the worker died: its lease runs out
    other = claim(db, "w", moment, lease_s=1)  # sweeps the exhausted job, takes the next one
    assert other != job_id
    with db() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.status == "failed" and "4 attempts" in (job.error or "")


def test_kill_9_mid_job_then_another_worker_completes_it(db_url: str, tmp_path: Path) -> None:
    url = db_url
    engine = open_engine(url)
    migrate(engine)
    db = sessions(engine)
    campaign_id = create_campaign(db, open_campaign_file(tmp_path))
    token = join(db, "alice", "lab-a", campaign_id)
    artifacts = Artifacts(tmp_path / "artifacts")
    sid = submit_predictions(
        db, artifacts, token, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl"
    )
    env = {**os.environ, "PALMARES_FAULT_WORKER_PAUSE": "60"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "palmares.cli", "worker", "--db", url, "--artifacts",
         str(tmp_path / "artifacts"), "--lease", "2", "--once"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    status = "queued"
    while time.monotonic() < deadline and status != "running":
        time.sleep(0.1)
        with db() as session:
            job = session.scalar(select(Job).where(Job.submission_id == sid))
            status = job.status if job else "queued"
    assert status == "running", proc.communicate(timeout=5)[0] if proc.poll() is not None else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(2.5)  # the lease (2 s) runs out: nobody beats for it any more
    assert run_one(db, artifacts, worker="rescuer", lease_s=2) is not None
    with db() as session:
        job = session.scalar(select(Job).where(Job.submission_id == sid))
        assert job is not None and job.status == "done" and job.attempts == 2
        assert session.scalar(select(func.count()).select_from(ScoreRecord)) == 1
        submission = session.get(Submission, sid)
        assert submission is not None and submission.status == "scored"
