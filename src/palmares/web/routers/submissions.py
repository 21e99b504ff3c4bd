"""``/api/…/submissions``: submit a predictions file, read one's own submissions.

A participant sees only their team's submissions (any other id answers 404, as if absent), and
their scores only as the phase's feedback policy allows: ``full``, ``rounded`` (2 decimals) or
``none``. Scores shown are those of the public part of the hidden split.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from sqlalchemy import select

from palmares.campaigns import is_staff
from palmares.store import ScoreRecord, Submission
from palmares.web.deps import DB, ArtifactsDep, CurrentUser, SessionDep, SettingsDep, Token
from palmares.web.errors import NotFound
from palmares.web.routers._params import NO_NUL, Id, Limit, Name, Offset
from palmares.web.uploads import receive
from palmares.web.views import submission_view, visible_submission

router = APIRouter(prefix="/api", tags=["submissions"])


@router.post("/campaigns/{campaign_id}/tasks/{task_id}/submissions", status_code=201)
def submit(
    campaign_id: Id,
    task_id: Name,
    token: Token,
    user: CurrentUser,
    db: DB,
    artifacts: ArtifactsDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    kind: Annotated[Literal["predictions", "endpoint", "model_file"], Form()] = "predictions",
    url: Annotated[str | None, Form(pattern=NO_NUL)] = None,
    model: Annotated[str | None, Form(pattern=NO_NUL)] = None,
    api_key: Annotated[str | None, Form(pattern=NO_NUL)] = None,
    split: Annotated[Literal["hidden", "public"], Form()] = "hidden",
    system: Annotated[str | None, Form(pattern=NO_NUL)] = None,
) -> dict[str, Any]:
    """A predictions file or a GGUF model file (multipart ``file``), or an endpoint (``url``,
    ``model``, optional ``api_key``, which no response ever returns)."""
    # CurrentUser has already refused a request without a token
    sid = receive(
        db, artifacts, settings, token or "", campaign_id, task_id, kind=kind,
        file=None if file is None else file.file, filename=None if file is None else file.filename,
        url=url, model=model, api_key=api_key, split=split, system=system,
    )  # fmt: skip
    return {"id": sid, "status": "queued"}


@router.get("/submissions")
def list_submissions(
    s: SessionDep, user: CurrentUser, offset: Offset = 0, limit: Limit = 50
) -> dict[str, Any]:
    query = select(Submission).order_by(Submission.created_at, Submission.id)
    if not is_staff(user):
        query = query.where(Submission.team_id == user.team_id)
    rows = s.scalars(query.offset(offset).limit(limit)).all()
    return {"items": [submission_view(s, user, r) for r in rows], "offset": offset, "limit": limit}


@router.get("/submissions/{submission_id}")
def get_submission(submission_id: Name, s: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return submission_view(s, user, visible_submission(s, user, submission_id))


@router.get("/submissions/{submission_id}/items")
def get_items(submission_id: Name, s: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Per-item results, for a submission on the public split only (hidden items never)."""
    submission = visible_submission(s, user, submission_id)
    record = s.get(ScoreRecord, submission.id)
    if submission.split != "public" or record is None or record.items is None:
        raise NotFound("per-item results exist only for scored submissions on the public split")
    return {"id": submission.id, "items": record.items}
