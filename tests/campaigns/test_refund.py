"""A scoring failure caused by the platform gives the quota back (issue #14), in the transaction
that marks the submission failed, audited; the team is told a reason it can act on, never a
server path. A problem of the file found only at scoring stays the team's, told by line and
field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.campaigns.conftest import EXAMPLE, join, open_campaign_file

import palmares.campaigns.scoring
import palmares.campaigns.worker
from palmares.campaigns import create_campaign, rescore, run_one, set_password
from palmares.campaigns import submit_predictions as submit
from palmares.campaigns.worker import FILE_ERROR, PLATFORM_ERROR
from palmares.core import InputError
from palmares.store import AuditEvent, CampaignTask, Job, QuotaUsage, Submission
from palmares.tasks import read_predictions
from palmares.web import Settings, create_app

PASSWORD = "correct horse battery"
BASELINE = EXAMPLE / "baseline.jsonl"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Any:
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    create_campaign(app.state.db, open_campaign_file(tmp_path, quota=5))
    return app


def _used(app: Any) -> dict[str, int]:
    with app.state.db() as s:
        return {q.period: q.used for q in s.scalars(select(QuotaUsage))}


def _drain(app: Any) -> None:
    while run_one(app.state.db, app.state.artifacts) is not None:
        pass


def _job(app: Any, sid: str) -> Job:
    with app.state.db() as s:
        job: Job | None = s.scalar(select(Job).where(Job.submission_id == sid))
        assert job is not None
        return job


def _refunds(app: Any) -> list[dict[str, Any]]:
    with app.state.db() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "submission.refund"))
        return [e.payload for e in events]


def _run_page(app: Any, name: str, sid: str) -> str:
    set_password(app.state.db, name, PASSWORD)
    web = TestClient(app)
    page = web.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"name": name, "password": PASSWORD, "csrf": csrf.group(1), "next": "/"}
    assert web.post("/login", data=form, follow_redirects=False).status_code == 303
    res = web.get(f"/submissions/{sid}")
    assert res.status_code == 200
    return res.text


def test_an_injected_worker_failure_gives_the_quota_back(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, artifacts = app.state.db, app.state.artifacts
    token = join(db, "alice", "lab-a")
    kept = submit(db, artifacts, token, 1, "avis-fr", BASELINE)
    _drain(app)  # scored: its quota stays used
    sid = submit(db, artifacts, token, 1, "avis-fr", BASELINE)
    before = _used(app)
    assert sorted(before.values()) == [2, 2]  # the UTC day and the total

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"disk full under {tmp_path}/srv/palmares")  # a bug of the platform's

    monkeypatch.setattr(palmares.campaigns.worker, "score_parts_with_evidence", broken)
    _drain(app)
    after = _used(app)
    assert sorted(after.values()) == [1, 1]  # given back, in both periods
    job = _job(app, sid)
    assert job.status == "failed" and (job.error or "").startswith(PLATFORM_ERROR)
    assert "disk full" in (job.error or "")  # the staff's view keeps the detail
    with db() as s:
        assert s.get(Submission, sid).status == "failed"
        assert s.get(Submission, kept).status == "scored"
    [refund] = _refunds(app)
    assert refund["submission"] == sid and sorted(refund["periods"])[1] == "total"

    page = _run_page(app, "alice", sid)
    assert "Erreur de la plateforme : votre quota vous a été rendu" in page
    assert "les organisateurs sont prévenus" in page
    assert str(tmp_path) not in page and "disk full" not in page and "Traceback" not in page

    # rescored, it fails again: the quota is not given back twice
    rescore(db, sid, "olga")
    _drain(app)
    assert _used(app) == after and len(_refunds(app)) == 1


@pytest.mark.parametrize("cause", ["missing artifact", "task fails to load"])
def test_a_platform_cause_found_by_the_worker_is_refunded(app: Any, cause: str) -> None:
    db, artifacts = app.state.db, app.state.artifacts
    token = join(db, "alice", "lab-a")
    sid = submit(db, artifacts, token, 1, "avis-fr", BASELINE)
    with db.begin() as s:
        submission = s.get(Submission, sid)
        assert submission is not None
        if cause == "missing artifact":
            artifacts.discard(submission.artifact)
        else:
            s.execute(update(CampaignTask).values(spec_path="/nowhere/task.yaml"))
    assert sorted(_used(app).values()) == [1, 1]
    _drain(app)
    assert sorted(_used(app).values()) == [0, 0]
    error = _job(app, sid).error or ""
    assert error.startswith(PLATFORM_ERROR)
    assert ("is missing" if cause == "missing artifact" else "the task failed to load") in error
    assert [r["submission"] for r in _refunds(app)] == [sid]


def test_a_file_problem_found_only_at_scoring_is_the_teams(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, artifacts = app.state.db, app.state.artifacts
    token = join(db, "alice", "lab-a")
    sid = submit(db, artifacts, token, 1, "avis-fr", BASELINE)
    real = read_predictions

    def stricter(source: str, *args: Any, **kwargs: Any) -> Any:
        real(source, *args, **kwargs)
        raise InputError("expected a label, got a list", file=source, line=3, field="prediction")

    monkeypatch.setattr(palmares.campaigns.scoring, "read_predictions", stricter)
    _drain(app)
    assert sorted(_used(app).values()) == [1, 1] and _refunds(app) == []  # not given back
    error = _job(app, sid).error or ""
    assert error == f"{FILE_ERROR}line 3: prediction: expected a label, got a list"
    page = _run_page(app, "alice", sid)
    assert "Problème dans le fichier :" in page
    # a text no message template reads back is told as it is, marked English
    assert (
        '<span id="file-problem" lang="en">line 3: prediction: expected a label, got a list' in page
    )
    assert str(artifacts.root) not in page


def test_the_run_page_says_which_items_its_n_counts(app: Any) -> None:
    db, artifacts = app.state.db, app.state.artifacts
    token = join(db, "alice", "lab-a")
    sid = submit(db, artifacts, token, 1, "avis-fr", BASELINE)
    _drain(app)
    page = _run_page(app, "alice", sid)
    found = re.search(r'id="scores-n">n = (\d+) : les items de la partie publique du test', page)
    assert found is not None and 0 < int(found.group(1)) < 48  # the public part of 48 items
    assert "<dd>test caché</dd>" in page
