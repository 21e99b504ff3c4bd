"""The organiser console: campaigns created from their YAML (errors by line, nothing written,
paths kept inside the tasks folder), phase settings, rescoring, snapshots, the job queue; and
who may read it (staff) and act on it (organisers and admins, with the form's CSRF token)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import EXAMPLE, db, db_url, join  # noqa: F401

from palmares.campaigns import (
    add_user,
    claim,
    create_campaign_from_text,
    log_in,
    run_one,
    set_password,
    submit_predictions,
    verify,
)
from palmares.store import (
    AuditEvent,
    Campaign,
    Challenge,
    Job,
    Phase,
    ScoreRecord,
    Snapshot,
    Submission,
)
from palmares.web import Settings, create_app
from palmares.web.pages._base import SESSION_COOKIE

PASSWORD = "correct horse battery"
TASKS_DIR = EXAMPLE.parent  # the YAML names the task "avis-fr/task.yaml"


def _day(offset: int) -> str:
    return str((datetime.now(UTC) + timedelta(days=offset)).date())


def campaign_yaml(slug: str = "c1", dev: tuple[int, int] = (-1, 1), extra: str = "") -> str:
    """A campaign on the example task: its dev phase from ``dev[0]`` to ``dev[1]`` days from
    today, its test phase after."""
    return f"""challenge: {{id: defi-fr, title: "Défi IA en français"}}
campaign: {{id: {slug}, title: "Campagne {slug}"{extra}}}
tasks:
  - {{task: avis-fr/task.yaml, hidden_split: test}}
phases:
  - {{kind: dev, start: {_day(dev[0])}, end: {_day(dev[1])}, quota: {{per_day: 5, total: 10}},
     feedback: full, accepts: [predictions]}}
  - {{kind: test, start: {_day(dev[1] + 1)}, end: {_day(dev[1] + 3)}, feedback: none}}
"""


def _app(url: str, tmp_path: Path) -> FastAPI:
    settings = Settings(db=url, artifacts=str(tmp_path / "artifacts"), tasks_dir=str(TASKS_DIR))
    return create_app(settings)


def _staff(database: sessionmaker[Session], name: str, role: str) -> None:
    add_user(database, name, role)
    set_password(database, name, PASSWORD)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no form on the page"
    return found.group(1)


def _signed_in(app: FastAPI, name: str) -> tuple[TestClient, str]:
    """A browser with ``name``'s session cookie, and the CSRF token its forms carry."""
    client = TestClient(app)
    made = log_in(app.state.db, name, PASSWORD)
    client.cookies.set(SESSION_COOKIE, made.token)
    return client, made.csrf


def _count(database: sessionmaker[Session], model: type) -> int:
    with database() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_create_from_yaml_then_rescore(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    app = _app(db_url, tmp_path)
    database, artifacts = app.state.db, app.state.artifacts
    _staff(database, "olga", "organiser")
    web = TestClient(app)
    assert web.get("/console", follow_redirects=False).headers["location"].startswith("/login")
    login = web.get("/login?next=/console")
    signed = web.post(
        "/login",
        data={"name": "olga", "password": PASSWORD, "csrf": _csrf(login.text), "next": "/console"},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    page = web.get("/console")
    assert page.status_code == 200 and 'for="f-yaml_text"' in page.text
    made = web.post(
        "/console/campaigns",
        data={"yaml_text": campaign_yaml(), "csrf": _csrf(page.text)},
        files={"file": ("", b"")},  # no file chosen: the text is used
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/console/campaigns/1?done=created"
    with database() as s:
        campaign = s.get(Campaign, 1)
        assert campaign is not None and campaign.slug == "c1"
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.create"))
        assert event is not None and event.actor == "olga"
    listed = web.get("/console")
    assert "Campagne c1" in listed.text and "Défi IA en français" in listed.text

    token = join(database, "alice", "lab-a", 1)
    sid = submit_predictions(database, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl")
    assert run_one(database, artifacts) is not None
    with database() as s:
        first = s.get(ScoreRecord, sid)
        assert first is not None
        scores = (first.public, first.private)
    detail = web.get("/console/campaigns/1")
    assert detail.status_code == 200 and "lab-a" in detail.text and "Renoter" in detail.text
    again = web.post(
        f"/console/submissions/{sid}/rescore",
        data={"csrf": _csrf(detail.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"].endswith("done=rescored")
    with database() as s:
        job = s.scalar(select(Job).where(Job.submission_id == sid))
        submission = s.get(Submission, sid)
        assert job is not None and submission is not None
        assert (job.status, job.attempts, job.error, job.worker, job.lease_until) == (
            "queued", 0, None, None, None,
        )  # fmt: skip
        assert submission.status == "queued" and s.get(ScoreRecord, sid) is None
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "submission.rescore"))
        assert event is not None and event.actor == "olga" and event.payload["submission"] == sid
    assert "Soumission remise en file" in web.get(again.headers["location"]).text
    assert run_one(database, artifacts) is not None
    with database() as s:
        second = s.get(ScoreRecord, sid)
        submission = s.get(Submission, sid)
        assert second is not None and submission is not None
        assert submission.status == "scored" and (second.public, second.private) == scores
    assert verify(database).ok


def test_invalid_yaml_is_shown_by_line_and_writes_nothing(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    app = _app(db_url, tmp_path)
    database = app.state.db
    _staff(database, "olga", "organiser")
    web, csrf = _signed_in(app, "olga")
    cases = [
        # YAML syntax: an unclosed flow mapping
        (campaign_yaml().replace("hidden_split: test}", "hidden_split: test"), "Ligne", None),
        # a misspelt key, on line 6
        (campaign_yaml().replace("kind: dev", "knd: dev"), "phases.0.knd", 6),
        # a split the task does not have
        (campaign_yaml().replace("hidden_split: test", "hidden_split: nope"), "tasks.0", 4),
        # fails inside the transaction, after the new challenge was added: rolled back
        (campaign_yaml(extra=", anchors_from: ghost"), "campaign.anchors_from", 2),
        ("", "yaml_text", None),
    ]
    for text, shown, line in cases:
        res = web.post("/console/campaigns", data={"yaml_text": text, "csrf": csrf})
        assert res.status_code == 400, (text, res.text)
        assert shown in res.text and 'role="alert"' in res.text
        if line is not None:
            assert f'<dd class="line">{line}</dd>' in res.text
        assert _count(database, Campaign) == 0 and _count(database, Challenge) == 0
    # an uploaded file replaces the text, and its name is the one errors give
    bad = campaign_yaml().replace("kind: dev", "knd: dev").encode()
    res = web.post(
        "/console/campaigns",
        data={"yaml_text": "", "csrf": csrf},
        files={"file": ("printemps.yaml", bad, "text/yaml")},
    )
    assert res.status_code == 400 and "printemps.yaml" in res.text
    assert "knd: dev" in res.text  # the text comes back in the form, and the line is quoted
    assert _count(database, Campaign) == 0


def test_paths_outside_the_tasks_folder_are_refused(tmp_path: Path) -> None:
    app = _app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    database = app.state.db
    _staff(database, "olga", "organiser")
    web, csrf = _signed_in(app, "olga")
    (tmp_path / "rules.md").write_text("secret", "utf-8")
    for outside in ("../../../../../etc/hostname", "/etc/hostname"):
        text = campaign_yaml().replace("avis-fr/task.yaml", outside)
        res = web.post("/console/campaigns", data={"yaml_text": text, "csrf": csrf})
        assert res.status_code == 400 and "tasks.0.task" in res.text and "outside" in res.text
        assert '<dd class="line">4</dd>' in res.text
    rules = campaign_yaml(extra=f", rules: {tmp_path / 'rules.md'}")
    res = web.post("/console/campaigns", data={"yaml_text": rules, "csrf": csrf})
    assert res.status_code == 400 and "campaign.rules" in res.text and "secret" not in res.text
    assert _count(database, Campaign) == 0
    # an absolute path inside the tasks folder is fine
    with_absolute = campaign_yaml().replace("avis-fr/task.yaml", str(EXAMPLE / "task.yaml"))
    res = web.post("/console/campaigns", data={"yaml_text": with_absolute, "csrf": csrf})
    assert res.status_code == 200 and _count(database, Campaign) == 1  # followed to its page


def test_phase_settings_are_edited_validated_and_audited(tmp_path: Path) -> None:
    app = _app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    database = app.state.db
    _staff(database, "olga", "organiser")
    create_campaign_from_text(database, campaign_yaml(), TASKS_DIR, "olga")
    web, csrf = _signed_in(app, "olga")
    page = web.get("/console/campaigns/1")
    assert page.status_code == 200 and 'for="p1-quota_per_day"' in page.text
    form = {"quota_per_day": "2", "quota_total": "", "feedback": "rounded"}
    res = web.post(
        "/console/campaigns/1/phases/1",
        data={**form, "leaderboard": "hidden", "csrf": csrf},
        follow_redirects=False,
    )
    assert res.status_code == 303
    with database() as s:
        phase = s.get(Phase, 1)
        assert phase is not None
        assert (phase.quota_per_day, phase.quota_total, phase.feedback, phase.leaderboard) == (
            2, None, "rounded", "hidden",
        )  # fmt: skip
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "phase.update"))
        assert event is not None and event.actor == "olga"
        assert event.payload["before"]["quota_total"] == 10
        assert event.payload["after"]["quota_total"] is None
    for bad, field in (
        ({"quota_per_day": "-1"}, "quota_per_day"),
        ({"quota_total": "many"}, "quota_total"),
        ({"feedback": "loud"}, "feedback"),
        ({"leaderboard": "secret"}, "leaderboard"),
        ({"feedback": "ladder", "ladder_step": "-0.5"}, "ladder_step"),
    ):
        data = {**form, "leaderboard": "public", "csrf": csrf, **bad}
        res = web.post("/console/campaigns/1/phases/1", data=data)
        assert res.status_code == 400 and field in res.text and 'aria-invalid="true"' in res.text
    with database() as s:
        phase = s.get(Phase, 1)
        assert phase is not None and phase.leaderboard == "hidden"  # nothing changed
    res = web.post("/console/campaigns/2/phases/1", data={**form, "csrf": csrf})
    assert res.status_code == 404
    # the Ladder's step: set, shown, then back to the parameter-free Ladder
    ladder = {**form, "feedback": "ladder", "leaderboard": "public", "csrf": csrf}
    res = web.post(
        "/console/campaigns/1/phases/1",
        data={**ladder, "ladder_step": "0.02"},
        follow_redirects=False,
    )
    assert res.status_code == 303
    page = web.get("/console/campaigns/1").text
    assert 'name="ladder_step" type="number" min="0" step="any" value="0.02"' in page
    assert "η = 0.02" in page
    res = web.post("/console/campaigns/1/phases/1", data={**ladder, "ladder_step": ""})
    with database() as s:
        phase = s.get(Phase, 1)
        assert phase is not None and (phase.feedback, phase.ladder_step) == ("ladder", None)


def test_snapshot_of_an_ended_phase_only(tmp_path: Path) -> None:
    app = _app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    database = app.state.db
    _staff(database, "olga", "organiser")
    create_campaign_from_text(database, campaign_yaml(dev=(-5, -2)), TASKS_DIR, "olga")
    web, csrf = _signed_in(app, "olga")
    page = web.get("/console/campaigns/1")
    assert "Publier un instantané" in page.text and "terminée" in page.text
    ok = web.post(
        "/console/campaigns/1/snapshots",
        data={"phase": "dev", "task": "avis-fr", "reason": "correction <b>", "csrf": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    shown = web.get(ok.headers["location"])
    assert "Instantané publié" in shown.text and "correction &lt;b&gt;" in shown.text
    early = web.post(
        "/console/campaigns/1/snapshots",
        data={"phase": "test", "task": "avis-fr", "reason": "trop tôt", "csrf": csrf},
    )
    assert early.status_code == 409 and "n&#39;est pas finie" in early.text  # the page is French
    no_reason = {"phase": "dev", "task": "avis-fr", "reason": " ", "csrf": csrf}
    assert web.post("/console/campaigns/1/snapshots", data=no_reason).status_code == 400
    assert _count(database, Snapshot) == 1


def test_rescore_waits_for_a_live_lease(tmp_path: Path) -> None:
    app = _app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    database, artifacts = app.state.db, app.state.artifacts
    _staff(database, "olga", "organiser")
    create_campaign_from_text(database, campaign_yaml(), TASKS_DIR, "olga")
    token = join(database, "alice", "lab-a", 1)
    sid = submit_predictions(database, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl")
    now = datetime.now(UTC)
    assert claim(database, "w1", now, 300) is not None  # a worker holds it for 5 minutes
    web, csrf = _signed_in(app, "olga")
    assert "notation en cours" in web.get("/console/campaigns/1").text
    res = web.post(f"/console/submissions/{sid}/rescore", data={"csrf": csrf})
    assert res.status_code == 409 and "est en train de noter cette soumission" in res.text
    with database() as s:
        job = s.scalar(select(Job).where(Job.submission_id == sid))
        assert job is not None and job.status == "running"
        job_id = job.id
    with database.begin() as s:  # the worker died: its lease ran out
        job = s.get(Job, job_id)
        assert job is not None
        job.lease_until = now - timedelta(seconds=1)
    res = web.post(f"/console/submissions/{sid}/rescore", data={"csrf": csrf})
    assert res.status_code == 200 and "Soumission remise en file" in res.text
    assert run_one(database, artifacts) == job_id
    with database() as s:
        submission = s.get(Submission, sid)
        assert submission is not None and submission.status == "scored"


def test_jobs_page(tmp_path: Path) -> None:
    app = _app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    database, artifacts = app.state.db, app.state.artifacts
    _staff(database, "audrey", "auditor")
    create_campaign_from_text(database, campaign_yaml(), TASKS_DIR, "olga")
    token = join(database, "alice", "<i>lab-a</i>", 1)
    for _ in range(2):
        submit_predictions(database, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl")
    assert run_one(database, artifacts) is not None
    web, _ = _signed_in(app, "audrey")  # auditors read the queue
    page = web.get("/console/jobs")
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in page.text and "<script" not in page.text
    assert 'for="f-status"' in page.text and "&lt;i&gt;lab-a&lt;/i&gt;" in page.text
    assert page.text.count("<tr>") == 3  # header and two jobs
    assert "1/3" in page.text and "0/3" in page.text
    done = web.get("/console/jobs?status=done")
    assert done.text.count("<tr>") == 2 and "1/3" in done.text and "0/3" not in done.text
    assert web.get("/console/jobs?status=failed").text.count("<tr>") == 0
    assert "Scoring job queue" in web.get("/console/jobs?lang=en").text


def test_who_may_read_and_act(tmp_path: Path) -> None:
    app = _app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    database, artifacts = app.state.db, app.state.artifacts
    for name, role in (("olga", "organiser"), ("audrey", "auditor"), ("ada", "admin")):
        _staff(database, name, role)
    create_campaign_from_text(database, campaign_yaml(), TASKS_DIR, "olga")
    token = join(database, "alice", "lab-a", 1)
    set_password(database, "alice", PASSWORD)
    sid = submit_predictions(database, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl")
    posts = [
        ("/console/campaigns", {"yaml_text": campaign_yaml("c2")}),
        ("/console/campaigns/1/phases/1", {"feedback": "none", "leaderboard": "public"}),
        ("/console/campaigns/1/snapshots", {"phase": "dev", "task": "avis-fr", "reason": "x"}),
        (f"/console/submissions/{sid}/rescore", {}),
    ]
    anonymous = TestClient(app)
    for path in ("/console", "/console/campaigns/1", "/console/jobs"):
        res = anonymous.get(path, follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"].startswith("/login?next=")
    participant, csrf = _signed_in(app, "alice")
    for path in ("/console", "/console/campaigns/1", "/console/jobs"):
        assert participant.get(path).status_code == 403
    for path, data in posts:
        assert participant.post(path, data={**data, "csrf": csrf}).status_code == 403
    auditor, csrf = _signed_in(app, "audrey")
    page = auditor.get("/console")
    assert page.status_code == 200 and "f-yaml_text" not in page.text
    detail = auditor.get("/console/campaigns/1")
    assert (
        detail.status_code == 200
        and "Renoter" not in detail.text
        and "p1-feedback" not in detail.text
    )
    for path, data in posts:
        assert auditor.post(path, data={**data, "csrf": csrf}).status_code == 403
    organiser, csrf = _signed_in(app, "olga")
    for path, data in posts:
        assert organiser.post(path, data=data).status_code == 403  # no CSRF token
        assert organiser.post(path, data={**data, "csrf": "forged"}).status_code == 403
    assert _count(database, Campaign) == 1
    with database() as s:
        phase = s.get(Phase, 1)
        assert phase is not None and phase.feedback == "full"
        assert s.scalar(select(Job.attempts).where(Job.submission_id == sid)) == 0
    admin, csrf = _signed_in(app, "ada")
    res = admin.post("/console/campaigns", data={"yaml_text": campaign_yaml("c2"), "csrf": csrf})
    assert res.status_code == 200 and _count(database, Campaign) == 2
    english = organiser.get("/console?lang=en")
    assert "Organisers&#39; console" in english.text and "Create a campaign" in english.text
