"""What a participant does in the browser: register to a campaign (accepting its rules; with
an invitation code when the challenge admits by invitation; pending until an organiser approves
it when the campaign asks for approval), submit (a file checked line by line, or an endpoint),
follow their submissions, and read a run: its scores by slice and, on the public split, an item
explorer."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from palmares.campaigns import (
    Forbidden,
    QuotaExceeded,
    RegistrationStatus,
    SignupMode,
    register,
    registration_status,
    signup_mode,
)
from palmares.campaigns.invitations import admitted
from palmares.campaigns.worker import failure_reason
from palmares.core import InputError, Message
from palmares.core.protocols import MultipleChoiceSpec
from palmares.engine.protocols import MultipleChoice, protocol_for
from palmares.metrics import metric_registry
from palmares.store import (
    Campaign,
    CampaignTask,
    Job,
    Phase,
    QuotaUsage,
    ScoreRecord,
    Submission,
    System,
    Team,
)
from palmares.tasks import Task, load_task
from palmares.web.deps import DB, ArtifactsDep, SettingsDep
from palmares.web.errors import NotFound
from palmares.web.pages._base import Protected, ViewerDep, redirect, render
from palmares.web.pages.i18n import problem, say, shown
from palmares.web.routers._params import Id, PageNo
from palmares.web.uploads import receive
from palmares.web.views import submission_view, visible_submission

router = APIRouter()
PAGE_SIZE = 50


@router.get("/campaigns/{campaign_id}/register", response_class=HTMLResponse)
def registration_page(campaign_id: Id, request: Request, seen: ViewerDep, db: DB) -> HTMLResponse:
    return _registration(campaign_id, request, seen, db)


def _registration(
    campaign_id: int, request: Request, seen: ViewerDep, db: DB, status: int = 200,
    error: str | None = None,
) -> HTMLResponse:  # fmt: skip
    user, _ = seen.require(request)
    with db() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(Message("no campaign {campaign}", campaign=campaign_id))
        registration = registration_status(s, campaign_id, user.team_id)
        mode = signup_mode(s, campaign.challenge_id)
        joined = user.team_id is not None and admitted(s, campaign.challenge_id, user.team_id)
    return render(
        request, seen, "register.html", status=status, campaign=campaign,
        registered=registration is not None, registration=registration, error=error,
        needs_code=registration is None and mode is SignupMode.INVITATION and not joined,
        closed=registration is None and mode is SignupMode.CLOSED and not joined,
    )  # fmt: skip


@router.post("/campaigns/{campaign_id}/register", response_class=HTMLResponse)
def post_registration(
    campaign_id: Id,
    request: Request,
    seen: Protected,
    db: DB,
    accept_rules: Annotated[str | None, Form()] = None,
    invitation: Annotated[str, Form()] = "",
) -> Response:
    _, token = seen.require(request)
    try:
        register(db, token, campaign_id, accept_rules == "yes", invitation=invitation or None)
    except (InputError, Forbidden) as exc:
        told = problem(exc, seen.lang) if isinstance(exc, InputError) else say(exc, seen.lang)
        return _registration(campaign_id, request, seen, db, status=400, error=told)
    return redirect(seen, f"/campaigns/{campaign_id}")


def _submit_context(
    db: DB, campaign_id: int, task_id: str, team_id: int | None, now: datetime
) -> dict[str, Any]:
    """The open phase, what it accepts, the quota left, the team's systems."""
    with db() as s:
        campaign = s.get(Campaign, campaign_id)
        entry = s.scalar(
            select(CampaignTask).where(
                CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id
            )
        )
        if campaign is None or entry is None:
            raise NotFound(
                Message(
                    "no task {task} in campaign {campaign}",
                    task=repr(task_id),
                    campaign=campaign_id,
                )
            )
        phase = next(
            (
                p
                for p in s.scalars(select(Phase).where(Phase.campaign_id == campaign_id))
                if p.starts_at <= now < p.ends_at
            ),
            None,
        )
        left: dict[str, int | None] = {}
        if phase is not None and team_id is not None:
            used = {
                u.period: u.used
                for u in s.scalars(
                    select(QuotaUsage).where(
                        QuotaUsage.team_id == team_id, QuotaUsage.phase_id == phase.id
                    )
                )
            }
            day = now.date().isoformat()
            if phase.quota_per_day is not None:
                left["day"] = max(0, phase.quota_per_day - used.get(day, 0))
            if phase.quota_total is not None:
                left["total"] = max(0, phase.quota_total - used.get("total", 0))
        systems = s.scalars(
            select(System.name).where(System.team_id == team_id).order_by(System.name)
        ).all()
        registration = registration_status(s, campaign_id, team_id)
    return {
        "campaign": campaign,
        "entry": entry,
        "phase": phase,
        "left": left,
        "systems": systems,
        "registered": registration is RegistrationStatus.APPROVED,  # may submit
        "registration": registration,
    }


@router.get("/campaigns/{campaign_id}/tasks/{task_id}/submit", response_class=HTMLResponse)
def submit_page(
    campaign_id: Id, task_id: str, request: Request, seen: ViewerDep, db: DB
) -> HTMLResponse:
    user, _ = seen.require(request)
    context = _submit_context(db, campaign_id, task_id, user.team_id, datetime.now(UTC))
    return render(request, seen, "submit.html", error=None, form={}, **context)


@router.post("/campaigns/{campaign_id}/tasks/{task_id}/submit", response_class=HTMLResponse)
def post_submit(
    campaign_id: Id,
    task_id: str,
    request: Request,
    seen: Protected,
    db: DB,
    artifacts: ArtifactsDep,
    settings: SettingsDep,
    kind: Annotated[str, Form()] = "predictions",
    file: Annotated[UploadFile | None, File()] = None,
    split: Annotated[str, Form()] = "hidden",
    system: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    model: Annotated[str, Form()] = "",
    api_key: Annotated[str, Form()] = "",
) -> Response:
    user, token = seen.require(request)
    upload = file if file is not None and file.filename else None
    try:
        sid = receive(
            db, artifacts, settings, token, campaign_id, task_id, kind=kind,
            file=None if upload is None else upload.file,
            filename=None if upload is None else upload.filename,
            url=url, model=model, api_key=api_key or None, split=split, system=system or None,
        )  # fmt: skip
    except (InputError, Forbidden, QuotaExceeded) as exc:
        status = (
            400 if isinstance(exc, InputError) else 429 if isinstance(exc, QuotaExceeded) else 403
        )
        context = _submit_context(db, campaign_id, task_id, user.team_id, datetime.now(UTC))
        form = {"kind": kind, "split": split, "system": system, "url": url, "model": model}
        return render(
            request,
            seen,
            "submit.html",
            status=status,
            error=shown(exc, seen.lang),
            form=form,
            **context,
        )  # the key is never echoed back
    return redirect(seen, f"/submissions/{sid}")


@router.get("/submissions", response_class=HTMLResponse)
def submissions_page(request: Request, seen: ViewerDep, db: DB, page: PageNo = 1) -> HTMLResponse:
    user, _ = seen.require(request)
    page = max(1, page)
    with db() as s:
        query = (
            select(Submission, CampaignTask.task_id, CampaignTask.campaign_id, Team.name)
            .join(CampaignTask, CampaignTask.id == Submission.campaign_task_id)
            .join(Team, Team.id == Submission.team_id)
            .order_by(Submission.created_at.desc(), Submission.id)
        )
        if not seen.staff:
            query = query.where(Submission.team_id == user.team_id)
        rows = s.execute(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
        shown = [
            {
                **submission_view(s, user, submission),
                "task": task_id,
                "campaign": campaign_id,
                "team": team,
            }
            for submission, task_id, campaign_id, team in rows[:PAGE_SIZE]
        ]
    return render(
        request, seen, "submissions.html", rows=shown, page=page, more=len(rows) > PAGE_SIZE
    )


def _item_rows(
    record: ScoreRecord, entry: CampaignTask, errors_only: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """Per-item results of a public-split run with each item's inputs and reference (public
    data), and the item score that tells an error; errors first when asked. On a multiple
    choice task, the prediction and the reference are shown as their choices' texts."""
    assert record.items is not None and entry.public_split is not None
    task = load_task(entry.spec_path)
    items = task.items(entry.public_split)
    choice = task.protocol if isinstance(task.protocol, MultipleChoiceSpec) else None
    answer = _answers(task, entry.public_split) if choice is not None else None
    metric = record.primary_metric
    names = list(record.items[0]["scores"]) if record.items else []
    score_name = metric if metric in names else (names[0] if names else None)
    base = (score_name or "").split("@")[0].split("[")[0]
    higher = metric_registry().get(base).higher_is_better if base in metric_registry() else True
    rows = []
    for row in record.items:
        position = items.index.get(row["id"])
        if position is None:
            continue
        value = None if score_name is None else row["scores"].get(score_name)
        wrong = value is not None and (value < 1.0 if higher else value > 0.0)
        if errors_only and not wrong:
            continue
        inputs = {name: column[position] for name, column in items.inputs.items()}
        shown = {"reference": items.references[position], "prediction": row["prediction"]}
        if choice is not None:
            texts = _choice_texts(choice, inputs)
            picked = _chosen(row["prediction"])
            right = answer(position) if answer is not None else None
            if picked is not None and picked < len(texts):
                shown["prediction"] = _choice_label(texts, picked)
            if right is not None and right < len(texts):
                shown["reference"] = _choice_label(texts, right)
        rows.append({"id": row["id"], "inputs": inputs, **shown, "score": value, "wrong": wrong})
    return rows, score_name


def _choice_texts(spec: MultipleChoiceSpec, inputs: dict[str, Any]) -> list[str]:
    """An item's non-empty choices, in order (the ones a chosen index counts among)."""
    if spec.choices_field is not None:
        raw = inputs.get(spec.choices_field)
    else:
        raw = [inputs.get(f) for f in spec.choice_fields or []]
    if not isinstance(raw, list):
        return []
    return [str(c) for c in raw if c is not None and str(c).strip()]


def _chosen(prediction: Any) -> int | None:
    """The choice a prediction picks: its index, or the most likely choice of per-choice
    log-likelihoods (the first of equals, as ``acc`` takes it)."""
    if isinstance(prediction, int) and not isinstance(prediction, bool):
        return prediction if prediction >= 0 else None
    logliks = prediction.get("logliks") if isinstance(prediction, dict) else None
    if not isinstance(logliks, list) or not logliks:
        return None
    scores = [v if isinstance(v, (int, float)) and v == v else -math.inf for v in logliks]
    return max(range(len(scores)), key=lambda j: (scores[j], -j))


def _choice_label(texts: list[str], index: int) -> str:
    return f"{texts[index]} ({index})"


def _answers(task: Task, split: str) -> Callable[[int], int | None] | None:
    """The right choice's index of an item of ``split`` (by position), as scoring reads it."""
    try:
        protocol = protocol_for(task, split)
    except InputError:
        return None
    if not isinstance(protocol, MultipleChoice):
        return None
    items = task.items(split)

    def answer(position: int) -> int | None:
        try:
            return protocol.answer_index(items, position)
        except InputError:
            return None

    return answer


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def run_page(
    submission_id: str,
    request: Request,
    seen: ViewerDep,
    db: DB,
    errors: int = 0,
    page: PageNo = 1,
) -> HTMLResponse:
    """A run: status (the page refreshes itself while the job runs), scores with their
    intervals, by slice; on the public split, the item explorer."""
    user, _ = seen.require(request)
    page = max(1, page)
    with db() as s:
        submission = visible_submission(s, user, submission_id)
        view = submission_view(s, user, submission)
        entry = s.get(CampaignTask, submission.campaign_task_id)
        assert entry is not None
        job = s.scalar(select(Job).where(Job.submission_id == submission.id))
        record = s.get(ScoreRecord, submission.id)
        system = None if submission.system_id is None else s.get(System, submission.system_id)
    items: list[dict[str, Any]] = []
    score_name = None
    total = 0
    if submission.split == "public" and record is not None and record.items is not None:
        every, score_name = _item_rows(record, entry, bool(errors))
        total = len(every)
        items = every[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render(
        request, seen, "run.html", run=view, entry=entry, system=system,
        job_error=job.error if job is not None and seen.staff else None,
        failure=failure_reason(job.error) if job is not None else None,
        failed=submission.status == "failed", items=items, score_name=score_name, total=total,
        errors=bool(errors), page=page, pages=max(1, -(-total // PAGE_SIZE)),
        running=submission.status in ("queued", "running"),
    )  # fmt: skip
