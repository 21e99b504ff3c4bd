"""What organisers do to a running campaign, one transaction and one audit event each: create it
from the text of its YAML (the organiser console), change a phase's quotas, feedback (``ladder``
included, with its step) and leaderboard visibility, and rescore a submission (its job queued
again)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.audit import record
from palmares.campaigns.service import Forbidden, create_campaign
from palmares.campaigns.spec import CampaignSpec
from palmares.core import InputError, Message
from palmares.store import CampaignTask, Job, Phase, ScoreRecord, Submission, User
from palmares.store.models import ScoreEvidence
from palmares.tasks._yaml import Loc, _line_of, read_yaml, validate_model
from palmares.tasks.packs import pack_registry

#: the roles that may act on campaigns (auditors read only)
ORGANISERS = ("admin", "organiser")
FEEDBACK = ("full", "rounded", "none", "ladder")
VISIBILITY = ("public", "hidden")


def require_organiser(user: User | None) -> User:
    """The user, if they may act on campaigns; :class:`Forbidden` otherwise."""
    if user is None or user.role not in ORGANISERS:
        raise Forbidden(Message("only an organiser or an administrator may do this"))
    return user


def create_campaign_from_text(
    db: sessionmaker[Session],
    text: str,
    tasks_dir: str | Path,
    actor: str,
    name: str = "campaign.yaml",
    now: datetime | None = None,
) -> int:
    """Create a campaign from the text of its YAML (sent from a form); its task and rules paths
    start from ``tasks_dir`` and may not leave it. Errors name ``name``, the line and the field;
    nothing is written unless everything checks out. Returns the campaign's id."""
    root = Path(tasks_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="palmares-campaign-") as folder:
        path = Path(folder) / "campaign.yaml"
        path.write_text(text, encoding="utf-8")
        lines: dict[Loc, int] = {}
        try:
            data, lines = read_yaml(path)
            spec = validate_model(CampaignSpec, data, path, lines)
            _confined(spec, root, lines)
            return create_campaign(db, path, now=now, actor=actor, base=root)
        except InputError as exc:
            raise _shown(exc, path, name, root, lines) from None


def _confined(spec: CampaignSpec, root: Path, lines: dict[Loc, int]) -> None:
    """Every task and rules file is an existing file inside ``root``; a task may also be the
    id of an installed pack's task (``culture-fr``), which is no file of the organiser's."""
    wanted: list[tuple[Loc, str]] = [
        (("tasks", i, "task"), entry.task)
        for i, entry in enumerate(spec.tasks)
        if (root / entry.task).exists() or pack_registry().get(entry.task) is None
    ]
    if spec.campaign.rules is not None:
        wanted.append((("campaign", "rules"), spec.campaign.rules))
    for loc, relative in wanted:
        field = ".".join(str(part) for part in loc)
        line = _line_of(loc, lines)
        target = (root / relative).resolve()
        if not target.is_relative_to(root):
            raise InputError(
                f"{relative!r} is outside the tasks folder: give a path inside it",
                line=line,
                field=field,
            )
        if not target.is_file():
            raise InputError(f"no file {relative!r} in the tasks folder", line=line, field=field)


def _shown(exc: InputError, path: Path, name: str, root: Path, lines: dict[Loc, int]) -> InputError:
    """The error as the organiser can read it: the form's text by its name (with the line of the
    field named, where the check did not give one), a task file by its path inside the tasks
    folder (never the server's temporary file)."""
    file, line = exc.file, exc.line
    if file is None or file == str(path):
        file = name
        if line is None and exc.field:
            loc = tuple(int(p) if p.isdigit() else p for p in exc.field.split("."))
            line = _line_of(loc, lines)
    elif Path(file).resolve().is_relative_to(root):
        file = str(Path(file).resolve().relative_to(root))
    return InputError(exc.problem, file=file, line=line, field=exc.field)


def _limit(value: int | str | None, field: str) -> int | None:
    """A quota from a form: a whole number ≥ 0, or empty for no limit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(value)
    except ValueError:
        raise InputError(
            Message("a quota is a whole number (or empty: no limit)"), field=field
        ) from None
    if number < 0:
        raise InputError(Message("a quota cannot be negative"), field=field)
    return number


def _step(value: float | str | None, field: str) -> float | None:
    """A Ladder step from a form: a number > 0, or empty for the parameter-free Ladder."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except ValueError:
        raise InputError(
            Message("the Ladder's step is a number (or empty: no step)"), field=field
        ) from None
    if not number > 0 or number == float("inf"):
        raise InputError(Message("the Ladder's step is a positive number"), field=field)
    return number


#: ``update_phase(ladder_step=KEEP)``: leave the phase's step as it is
KEEP = "keep"


def update_phase(
    db: sessionmaker[Session],
    phase_id: int,
    *,
    quota_per_day: int | str | None,
    quota_total: int | str | None,
    feedback: str,
    leaderboard: str,
    actor: str,
    now: datetime | None = None,
    ladder_step: float | str | None = KEEP,
) -> None:
    """Change a phase's quotas (``None`` or empty: unlimited), feedback, leaderboard
    visibility and Ladder step (``None`` or empty: the parameter-free Ladder; ``KEEP``, the
    default: unchanged); the audit event keeps the values before and after. Turning a phase to
    ``ladder`` feedback mid-phase: a team appears on its public board from its next scored
    submission."""
    per_day = _limit(quota_per_day, "quota_per_day")
    total = _limit(quota_total, "quota_total")
    keep_step = isinstance(ladder_step, str) and ladder_step == KEEP
    step = None if keep_step else _step(ladder_step, "ladder_step")
    if feedback not in FEEDBACK:
        raise InputError(
            Message("feedback is one of {values}", values=", ".join(FEEDBACK)), field="feedback"
        )
    if leaderboard not in VISIBILITY:
        raise InputError(
            Message("the leaderboard is one of {values}", values=", ".join(VISIBILITY)),
            field="leaderboard",
        )
    now = now or datetime.now(UTC)
    with db.begin() as session:
        phase = session.scalar(select(Phase).where(Phase.id == phase_id).with_for_update())
        if phase is None:
            raise InputError(Message("no phase {phase}", phase=phase_id), field="phase")
        before = _settings(phase)
        phase.quota_per_day, phase.quota_total = per_day, total
        phase.feedback, phase.leaderboard = feedback, leaderboard
        if not keep_step:
            phase.ladder_step = step
        payload = {
            "campaign": phase.campaign_id,
            "phase": phase.kind,
            "before": before,
            "after": _settings(phase),
        }
        record(session, actor, "phase.update", payload, now)


def _settings(phase: Phase) -> dict[str, object]:
    return {
        "quota_per_day": phase.quota_per_day,
        "quota_total": phase.quota_total,
        "feedback": phase.feedback,
        "leaderboard": phase.leaderboard,
        "ladder_step": phase.ladder_step,
    }


def rescore(
    db: sessionmaker[Session], submission_id: str, actor: str, now: datetime | None = None
) -> None:
    """Queue a submission's job again (after a fix to a task or to the scoring): its old scores
    and evidence are removed, its attempts and error cleared; the next worker scores it afresh
    (in a ``ladder`` phase, it is decided again against the team's best; when it was the best,
    the team's Ladder restarts from it). Refused while a worker holds the job under a live
    lease."""
    now = now or datetime.now(UTC)
    with db.begin() as session:
        job = session.scalar(
            select(Job).where(Job.submission_id == submission_id).with_for_update()
        )
        submission = session.get(Submission, submission_id)
        if job is None or submission is None:
            raise InputError(
                Message("no submission {submission}", submission=repr(submission_id)),
                field="submission",
            )
        if job.status == "running" and job.lease_until is not None and job.lease_until > now:
            raise Forbidden(
                Message("a worker is scoring this submission now: rescore it once it is done")
            )
        entry = session.get(CampaignTask, submission.campaign_task_id)
        previous = job.status
        session.execute(delete(ScoreRecord).where(ScoreRecord.submission_id == submission_id))
        session.execute(delete(ScoreEvidence).where(ScoreEvidence.submission_id == submission_id))
        job.status, job.attempts, job.error = "queued", 0, None
        job.worker, job.lease_until = None, None
        session.execute(
            update(Submission).where(Submission.id == submission_id).values(status="queued")
        )
        payload = {
            "submission": submission_id,
            "task": None if entry is None else entry.task_id,
            "previous": previous,
        }
        record(session, actor, "submission.rescore", payload, now)
