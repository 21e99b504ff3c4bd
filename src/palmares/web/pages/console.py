"""The organiser console: campaigns (created from their YAML), a campaign's phases (quotas,
feedback, leaderboard visibility), its registrations (approved or refused, when the campaign
asks for approval), its submissions (rescore) and snapshots, a challenge's sign-up mode and
invitation codes, and the job queue.

Staff (admins, organisers, auditors) read every page; only admins and organisers act: an
auditor's post is refused (403), like anyone else's who is not staff.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from palmares.campaigns import (
    ORGANISERS,
    Forbidden,
    SignupMode,
    create_campaign_from_text,
    create_invitations,
    decide_registration,
    publish,
    registrations,
    require_organiser,
    rescore,
    set_signup_mode,
    snapshots,
    update_phase,
)
from palmares.campaigns.invitations import MAX_COUNT, invitation_counts
from palmares.campaigns.operations import KEEP
from palmares.core import InputError, Message
from palmares.store import Campaign, CampaignTask, Challenge, Job, Phase, Submission, Team, User
from palmares.web.deps import DB, SettingsDep
from palmares.web.errors import NotFound
from palmares.web.pages._base import Protected, Viewer, ViewerDep, redirect, render
from palmares.web.pages.i18n import Shown, problem, say, shown
from palmares.web.routers._params import Id, PageNo

router = APIRouter()
PAGE_SIZE = 50
JOB_STATUSES = ("queued", "running", "done", "failed")
#: the largest campaign YAML accepted from the form
MAX_YAML_BYTES = 1_000_000
#: what a redirect after a successful action tells the page to announce
NOTICES = ("created", "phase", "rescored", "published", "approved", "refused", "signup")


def _staff(request: Request, seen: Viewer) -> User:
    user, _ = seen.require(request)
    if not seen.staff:
        raise Forbidden(Message("the console is for organisers, administrators and auditors"))
    return user


def _organiser(request: Request, seen: Viewer) -> User:
    user, _ = seen.require(request)
    return require_organiser(user)


# --- campaigns ------------------------------------------------------------------------------


@router.get("/console", response_class=HTMLResponse)
def console_page(request: Request, seen: ViewerDep, db: DB) -> HTMLResponse:
    _staff(request, seen)
    return _console(request, seen, db)


def _console(
    request: Request,
    seen: Viewer,
    db: DB,
    status: int = 200,
    error: Shown | str | None = None,
    text: str = "",
    name: str = "campaign.yaml",
) -> HTMLResponse:
    with db() as s:
        rows = s.execute(
            select(Campaign, Challenge.title)
            .join(Challenge, Challenge.id == Campaign.challenge_id)
            .order_by(Campaign.id.desc())
        ).all()
        campaigns = [
            {
                "id": c.id,
                "slug": c.slug,
                "title": c.title,
                "challenge": c.challenge_id,
                "challenge_title": title,
                "created_at": c.created_at,
            }
            for c, title in rows
        ]
    excerpt = None
    if isinstance(error, Shown) and error.line is not None and error.file == name:
        lines = text.splitlines()
        if 0 < error.line <= len(lines):
            excerpt = lines[error.line - 1]
    return render(
        request, seen, "console.html", status=status, campaigns=campaigns, error=error,
        excerpt=excerpt, text=text, can_act=_can_act(seen),
    )  # fmt: skip


def _can_act(seen: Viewer) -> bool:
    return seen.user is not None and seen.user.role in ORGANISERS


@router.post("/console/campaigns", response_class=HTMLResponse)
def post_campaign(
    request: Request,
    seen: Protected,
    db: DB,
    settings: SettingsDep,
    yaml_text: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    user = _organiser(request, seen)
    text = yaml_text
    name = "campaign.yaml"
    try:
        if file is not None and file.filename:
            name = Path(file.filename).name or name
            raw = file.file.read(MAX_YAML_BYTES + 1)
            if len(raw) > MAX_YAML_BYTES:
                raise InputError(Message("a campaign file has at most 1 MB"), field="file")
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InputError(Message("not valid UTF-8 text"), field="file") from None
        if not text.strip():
            raise InputError(
                Message("paste the campaign's YAML or choose its file"), field="yaml_text"
            )
        campaign_id = create_campaign_from_text(db, text, settings.tasks_dir, user.name, name)
    except InputError as exc:
        told = shown(exc, seen.lang)
        return _console(request, seen, db, status=400, error=told, text=text, name=name)
    return redirect(seen, f"/console/campaigns/{campaign_id}?done=created")


# --- one campaign ---------------------------------------------------------------------------


@router.get("/console/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    campaign_id: Id, request: Request, seen: ViewerDep, db: DB, page: PageNo = 1, done: str = ""
) -> HTMLResponse:
    _staff(request, seen)
    notice = done if done in NOTICES else None
    return _campaign(request, seen, db, campaign_id, page=page, notice=notice)


def _campaign(
    request: Request,
    seen: Viewer,
    db: DB,
    campaign_id: int,
    *,
    page: int = 1,
    status: int = 200,
    error: str | None = None,
    phase_error: dict[str, Any] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    now = datetime.now(UTC)
    page = max(1, page)
    with db() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(Message("no campaign {campaign}", campaign=campaign_id))
        challenge = s.get(Challenge, campaign.challenge_id)
        phases = s.scalars(
            select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.starts_at)
        ).all()
        tasks = s.scalars(
            select(CampaignTask)
            .where(CampaignTask.campaign_id == campaign_id)
            .order_by(CampaignTask.id)
        ).all()
        rows = s.execute(
            select(Submission, CampaignTask.task_id, Team.name, Phase.kind, Job)
            .join(CampaignTask, CampaignTask.id == Submission.campaign_task_id)
            .join(Team, Team.id == Submission.team_id)
            .join(Phase, Phase.id == Submission.phase_id)
            .outerjoin(Job, Job.submission_id == Submission.id)
            .where(CampaignTask.campaign_id == campaign_id)
            .order_by(Submission.created_at.desc(), Submission.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        ).all()
        registered = registrations(s, campaign_id)
    submissions = [
        {
            "id": sub.id,
            "created_at": sub.created_at,
            "task": task_id,
            "team": team,
            "phase": kind,
            "kind": sub.kind,
            "split": sub.split,
            "status": sub.status,
            "busy": job is not None
            and job.status == "running"
            and job.lease_until is not None
            and job.lease_until > now,
        }
        for sub, task_id, team, kind, job in rows[:PAGE_SIZE]
    ]
    frozen = [{"task": t.task_id, "rows": snapshots(db, campaign_id, t.task_id)} for t in tasks]
    return render(
        request, seen, "console_campaign.html", status=status, campaign=campaign,
        challenge=challenge, phases=[_phase_view(p, now) for p in phases], tasks=tasks,
        submissions=submissions, page=page, more=len(rows) > PAGE_SIZE, frozen=frozen,
        error=error, phase_error=phase_error or {}, notice=notice, can_act=_can_act(seen),
        registrations=registered,
    )  # fmt: skip


def _phase_view(phase: Phase, now: datetime) -> dict[str, Any]:
    state = "ended" if phase.ends_at <= now else "open" if phase.starts_at <= now else "upcoming"
    return {
        "id": phase.id,
        "kind": phase.kind,
        "starts_at": phase.starts_at,
        "ends_at": phase.ends_at,
        "state": state,
        "quota_per_day": phase.quota_per_day,
        "quota_total": phase.quota_total,
        "feedback": phase.feedback,
        "ladder_step": phase.ladder_step,
        "leaderboard": phase.leaderboard,
        "accepts": list(phase.accepts),
    }


@router.post("/console/campaigns/{campaign_id}/phases/{phase_id}", response_class=HTMLResponse)
def post_phase(
    campaign_id: Id,
    phase_id: Id,
    request: Request,
    seen: Protected,
    db: DB,
    quota_per_day: Annotated[str, Form()] = "",
    quota_total: Annotated[str, Form()] = "",
    feedback: Annotated[str, Form()] = "",
    leaderboard: Annotated[str, Form()] = "",
    ladder_step: Annotated[str, Form()] = "",  # empty: the parameter-free Ladder
) -> Response:
    user = _organiser(request, seen)
    with db() as s:
        phase = s.get(Phase, phase_id)
        if phase is None or phase.campaign_id != campaign_id:
            raise NotFound(
                Message(
                    "no phase {phase} in campaign {campaign}", phase=phase_id, campaign=campaign_id
                )
            )
    try:
        update_phase(
            db, phase_id, quota_per_day=quota_per_day, quota_total=quota_total,
            feedback=feedback, leaderboard=leaderboard, actor=user.name,
            # the step means something with ladder feedback only; otherwise it is kept as it is
            ladder_step=ladder_step if feedback == "ladder" else KEEP,
        )  # fmt: skip
    except InputError as exc:
        told = {"phase": phase_id, "field": exc.field, "problem": problem(exc, seen.lang)}
        told |= {"quota_per_day": quota_per_day, "quota_total": quota_total}
        told["ladder_step"] = ladder_step
        return _campaign(request, seen, db, campaign_id, status=400, phase_error=told)
    return redirect(seen, f"/console/campaigns/{campaign_id}?done=phase")


@router.post("/console/campaigns/{campaign_id}/registrations", response_class=HTMLResponse)
def post_registration_decision(
    campaign_id: Id,
    request: Request,
    seen: Protected,
    db: DB,
    team: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
) -> Response:
    """Approve or refuse a team's registration (audited)."""
    user = _organiser(request, seen)
    with db() as s:
        if s.get(Campaign, campaign_id) is None:
            raise NotFound(Message("no campaign {campaign}", campaign=campaign_id))
    if decision not in ("approve", "refuse"):
        return _campaign(
            request, seen, db, campaign_id, status=400, error=say("approve or refuse", seen.lang)
        )
    try:
        decide_registration(db, campaign_id, team, decision == "approve", actor=user.name)
    except InputError as exc:
        return _campaign(request, seen, db, campaign_id, status=400, error=problem(exc, seen.lang))
    done = "approved" if decision == "approve" else "refused"
    return redirect(seen, f"/console/campaigns/{campaign_id}?done={done}")


@router.post("/console/campaigns/{campaign_id}/snapshots", response_class=HTMLResponse)
def post_snapshot(
    campaign_id: Id,
    request: Request,
    seen: Protected,
    db: DB,
    phase: Annotated[str, Form()] = "",
    task: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    user = _organiser(request, seen)
    with db() as s:
        entry = s.scalar(
            select(CampaignTask.id).where(
                CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task
            )
        )
    told = None
    if entry is None:
        told = say(Message("no task {task} in this campaign", task=repr(task)), seen.lang)
    elif not reason.strip():
        told = say(
            Message("give the reason for this snapshot (it is published with it)"), seen.lang
        )
    else:
        try:
            publish(db, campaign_id, phase, task, reason.strip(), actor=user.name)
        except Forbidden as exc:  # no such phase, or it has not ended
            return _campaign(request, seen, db, campaign_id, status=409, error=say(exc, seen.lang))
    if told is not None:
        return _campaign(request, seen, db, campaign_id, status=400, error=told)
    return redirect(seen, f"/console/campaigns/{campaign_id}?done=published")


@router.post("/console/submissions/{submission_id}/rescore", response_class=HTMLResponse)
def post_rescore(submission_id: str, request: Request, seen: Protected, db: DB) -> Response:
    user = _organiser(request, seen)
    with db() as s:
        campaign_id = s.scalar(
            select(CampaignTask.campaign_id)
            .join(Submission, Submission.campaign_task_id == CampaignTask.id)
            .where(Submission.id == submission_id)
        )
    if campaign_id is None:
        raise NotFound(Message("no submission {submission}", submission=submission_id))
    try:
        rescore(db, submission_id, actor=user.name)
    except Forbidden as exc:  # a worker holds the job under a live lease
        return _campaign(request, seen, db, campaign_id, status=409, error=say(exc, seen.lang))
    return redirect(seen, f"/console/campaigns/{campaign_id}?done=rescored")


# --- a challenge: sign-up mode and invitations ----------------------------------------------


@router.get("/console/challenges/{challenge_id}/invitations", response_class=HTMLResponse)
def invitations_page(
    challenge_id: str, request: Request, seen: ViewerDep, db: DB, done: str = ""
) -> HTMLResponse:
    _staff(request, seen)
    return _invitations(request, seen, db, challenge_id, notice=done if done in NOTICES else None)


def _invitations(
    request: Request,
    seen: Viewer,
    db: DB,
    challenge_id: str,
    *,
    status: int = 200,
    codes: list[str] | None = None,
    error: Shown | str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    with db() as s:
        challenge = s.get(Challenge, challenge_id)
        if challenge is None:
            raise NotFound(Message("no challenge {challenge}", challenge=repr(challenge_id)))
        counts = invitation_counts(s, challenge_id)
        campaigns = s.scalars(
            select(Campaign).where(Campaign.challenge_id == challenge_id).order_by(Campaign.id)
        ).all()
    return render(
        request, seen, "console_challenge.html", status=status, challenge=challenge,
        counts=counts, campaigns=campaigns, codes=codes or [], error=error, notice=notice,
        modes=[m.value for m in SignupMode], max_count=MAX_COUNT, can_act=_can_act(seen),
    )  # fmt: skip


@router.post("/console/challenges/{challenge_id}/invitations", response_class=HTMLResponse)
def post_invitations(
    challenge_id: str,
    request: Request,
    seen: Protected,
    db: DB,
    count: Annotated[str, Form()] = "1",
) -> Response:
    """Make invitation codes: shown on this answer only (never in a URL, never again)."""
    user = _organiser(request, seen)
    try:
        try:
            number = int(count)
        except ValueError:
            raise InputError(
                Message("the number of codes is a whole number"), field="count"
            ) from None
        codes = create_invitations(db, challenge_id, number, actor=user.name)
    except InputError as exc:  # no such challenge: the page itself answers 404
        return _invitations(
            request, seen, db, challenge_id, status=400, error=shown(exc, seen.lang)
        )
    response = _invitations(request, seen, db, challenge_id, codes=codes)
    response.headers["Cache-Control"] = "no-store"  # the codes are shown once
    return response


@router.post("/console/challenges/{challenge_id}/signup", response_class=HTMLResponse)
def post_signup_mode(
    challenge_id: str,
    request: Request,
    seen: Protected,
    db: DB,
    signup: Annotated[str, Form()] = "",
) -> Response:
    user = _organiser(request, seen)
    try:
        set_signup_mode(db, challenge_id, signup, actor=user.name)
    except InputError as exc:  # no such challenge: the page itself answers 404
        return _invitations(
            request, seen, db, challenge_id, status=400, error=shown(exc, seen.lang)
        )
    return redirect(seen, f"/console/challenges/{challenge_id}/invitations?done=signup")


# --- the job queue --------------------------------------------------------------------------


@router.get("/console/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, seen: ViewerDep, db: DB, status: str = "", page: PageNo = 1
) -> HTMLResponse:
    _staff(request, seen)
    page = max(1, page)
    chosen = status if status in JOB_STATUSES else ""
    with db() as s:
        query = (
            select(Job, CampaignTask.task_id, CampaignTask.campaign_id, Team.name)
            .join(Submission, Submission.id == Job.submission_id)
            .join(CampaignTask, CampaignTask.id == Submission.campaign_task_id)
            .join(Team, Team.id == Submission.team_id)
            .order_by(Job.created_at.desc(), Job.id.desc())
        )
        if chosen:
            query = query.where(Job.status == chosen)
        rows = s.execute(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    jobs = [
        {
            "id": job.id,
            "submission": job.submission_id,
            "task": task_id,
            "campaign": campaign_id,
            "team": team,
            "status": job.status,
            "attempts": job.attempts,
            "max_attempts": job.max_attempts,
            "worker": job.worker,
            "lease_until": job.lease_until,
            "error": job.error,
            "created_at": job.created_at,
        }
        for job, task_id, campaign_id, team in rows[:PAGE_SIZE]
    ]
    return render(
        request, seen, "console_jobs.html", jobs=jobs, status_filter=chosen,
        statuses=JOB_STATUSES, page=page, more=len(rows) > PAGE_SIZE,
    )  # fmt: skip
