"""``/api/…/submissions``: submit a predictions file, read one's own submissions.

A participant sees only their team's submissions (any other id answers 404, as if absent), and
their scores only as the phase's feedback policy allows: ``full``, ``rounded`` (2 decimals) or
``none``. Scores shown are those of the public part of the hidden split.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from palmares.campaigns import (
    is_staff,
    submit_endpoint,
    submit_model_file,
    submit_predictions,
)
from palmares.core import InputError
from palmares.store import Phase, ScoreRecord, Submission, User
from palmares.web.deps import DB, ArtifactsDep, CurrentUser, SessionDep, SettingsDep, Token
from palmares.web.errors import NotFound

router = APIRouter(prefix="/api", tags=["submissions"])


@router.post("/campaigns/{campaign_id}/tasks/{task_id}/submissions", status_code=201)
def submit(
    campaign_id: int,
    task_id: str,
    token: Token,
    user: CurrentUser,
    db: DB,
    artifacts: ArtifactsDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    kind: Annotated[Literal["predictions", "endpoint", "model_file"], Form()] = "predictions",
    url: Annotated[str | None, Form()] = None,
    model: Annotated[str | None, Form()] = None,
    api_key: Annotated[str | None, Form()] = None,
    split: Annotated[Literal["hidden", "public"], Form()] = "hidden",
    system: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """A predictions file or a GGUF model file (multipart ``file``), or an endpoint (``url``,
    ``model``, optional ``api_key``, which no response ever returns)."""
    token = token or ""  # CurrentUser has already refused a request without one
    if kind == "endpoint":
        sid = submit_endpoint(
            db, token, campaign_id, task_id, url or "", model or "", api_key, system=system
        )
        return {"id": sid, "status": "queued"}
    if file is None:
        raise InputError(f"a {kind} submission uploads a file", field="file")
    name = Path(file.filename or "upload").name  # errors name the file as sent
    limit = settings.max_upload_mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / name
        with local.open("wb") as fh:
            copied = 0
            while chunk := file.file.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    raise InputError(
                        f"the file is larger than {settings.max_upload_mb} MB", file=name
                    )
                fh.write(chunk)
        try:
            if kind == "predictions":
                sid = submit_predictions(
                    db, artifacts, token, campaign_id, task_id, local, split=split, system=system
                )
            else:
                sid = submit_model_file(
                    db, artifacts, token, campaign_id, task_id, local, system=system
                )
        except InputError as exc:  # name the file as sent, not the server's temporary folder
            if exc.file and exc.file.startswith(folder):
                exc.file = exc.file[len(folder) + 1 :]
            raise
    return {"id": sid, "status": "queued"}


def _visible(s: Session, user: User, submission_id: str) -> Submission:
    submission = s.get(Submission, submission_id)
    if submission is None or (not is_staff(user) and submission.team_id != user.team_id):
        raise NotFound(f"no submission {submission_id}")
    return submission


def _view(s: Session, user: User, submission: Submission) -> dict[str, Any]:
    phase = s.get(Phase, submission.phase_id)
    assert phase is not None
    record = s.get(ScoreRecord, submission.id)
    feedback = "full" if is_staff(user) else phase.feedback
    scores: dict[str, Any] | None = None
    if record is not None and feedback != "none":
        scores = record.public["scores"]
        if feedback == "rounded":
            scores = {
                name: {
                    **score,
                    "value": round(score["value"], 2),
                    "ci": None if score["ci"] is None else [round(x, 2) for x in score["ci"]],
                }
                for name, score in scores.items()
            }
    return {
        "id": submission.id,
        "phase": phase.kind,
        "status": submission.status,
        "kind": submission.kind,
        "split": submission.split,
        "endpoint": None
        if submission.endpoint_url is None
        else {"url": submission.endpoint_url, "model": submission.endpoint_model},
        "created_at": submission.created_at.isoformat(),
        "feedback": feedback,
        "scores": scores,
    }


@router.get("/submissions")
def list_submissions(
    s: SessionDep, user: CurrentUser, offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    query = select(Submission).order_by(Submission.created_at, Submission.id)
    if not is_staff(user):
        query = query.where(Submission.team_id == user.team_id)
    rows = s.scalars(query.offset(offset).limit(limit)).all()
    return {"items": [_view(s, user, r) for r in rows], "offset": offset, "limit": limit}


@router.get("/submissions/{submission_id}")
def get_submission(submission_id: str, s: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return _view(s, user, _visible(s, user, submission_id))


@router.get("/submissions/{submission_id}/items")
def get_items(submission_id: str, s: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Per-item results, for a submission on the public split only (hidden items never)."""
    submission = _visible(s, user, submission_id)
    record = s.get(ScoreRecord, submission.id)
    if submission.split != "public" or record is None or record.items is None:
        raise NotFound("per-item results exist only for scored submissions on the public split")
    return {"id": submission.id, "items": record.items}
