"""A submission as its viewer may see it: scores only as the phase's feedback policy allows
(``full``, ``rounded`` to 2 decimals, ``none``, or ``ladder``: until the phase ends, only the
public score the Ladder released after this submission, and whether it accepted it), staff
always in full. Shared by the API and the pages so that the two can never disagree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from palmares.campaigns import is_staff
from palmares.campaigns.leaderboard import round_score
from palmares.store import Phase, ScoreRecord, Submission, User
from palmares.web.errors import NotFound


def visible_submission(s: Session, user: User, submission_id: str) -> Submission:
    """The submission if it is the caller's team's (or the caller is staff); else 404."""
    submission = s.get(Submission, submission_id)
    if submission is None or (not is_staff(user) and submission.team_id != user.team_id):
        raise NotFound(f"no submission {submission_id}")
    return submission


def _rounded(scores: dict[str, Any]) -> dict[str, Any]:
    return {name: round_score(score) for name, score in scores.items()}


def submission_view(s: Session, user: User, submission: Submission) -> dict[str, Any]:
    phase = s.get(Phase, submission.phase_id)
    assert phase is not None
    record = s.get(ScoreRecord, submission.id)
    feedback = "full" if is_staff(user) else phase.feedback
    scores: dict[str, Any] | None = None
    slices: dict[str, Any] | None = None
    decided = None if record is None or record.ladder is None else record.ladder
    ladder = None if decided is None else {k: decided[k] for k in ("accepted", "released")}
    # the public split's references are public; once the phase ends, nothing is withheld
    if feedback == "ladder" and (
        submission.split == "public" or phase.ends_at <= datetime.now(UTC)
    ):
        feedback = "full"
    if record is not None and feedback == "ladder":
        if decided is not None:  # none: scored before the phase turned to the Ladder
            metric = record.primary_metric
            n = record.public["scores"][metric]["n"]
            released = decided["released"]
            scores = {metric: {"value": released, "ci": None, "n": n, "method": "ladder"}}
            slices = {}
    elif record is not None and feedback != "none":
        scores = record.public["scores"]
        slices = record.public.get("slices") or {}
        if feedback == "rounded":
            scores = _rounded(scores)
            slices = {
                field: {value: _rounded(by) for value, by in values.items()}
                for field, values in slices.items()
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
        "slices": slices,
        "primary_metric": None if record is None else record.primary_metric,
        "ladder": ladder,
    }
