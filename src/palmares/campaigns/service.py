"""Campaign actions, one database transaction each: create a campaign from its YAML, add users,
submit predictions. Bad input raises :class:`InputError` before anything is written."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from palmares.backends.gguf import check_gguf
from palmares.campaigns.artifacts import Artifacts
from palmares.campaigns.audit import record
from palmares.campaigns.credentials import Vault
from palmares.campaigns.leaderboard import ROUNDED_MIN_ITEMS, ROUNDING_STEP
from palmares.campaigns.names import clean_name, clean_user_name, keyed, look_alike, unique_names
from palmares.campaigns.quotas import reserve
from palmares.campaigns.scoring import PUBLIC_SHARE, public_positions
from palmares.campaigns.spec import CampaignSpec, RegistrationStatus, SignupMode, TaskEntry
from palmares.core import InputError, Message, PalmaresError, canonical_json
from palmares.store import (
    Campaign,
    CampaignTask,
    Challenge,
    Job,
    Phase,
    Registration,
    Submission,
    System,
    Team,
    Token,
    User,
)
from palmares.tasks import Task, load_task, read_predictions
from palmares.tasks._yaml import read_yaml, validate_model
from palmares.tasks.packs import resolve_task
from palmares.tasks.predictions import OtherSplit, predictions_format

ROLES = ("admin", "organiser", "participant", "auditor")
#: the roles that see every team's submissions and the private parts before a phase ends
STAFF = ("admin", "organiser", "auditor")


class Forbidden(PalmaresError):
    """The caller may not do this (no token, wrong role, closed phase)."""


def load_campaign_spec(path: str | Path) -> CampaignSpec:
    path = Path(path)
    data, lines = read_yaml(path)
    return validate_model(CampaignSpec, data, path, lines)


def create_campaign(
    db: sessionmaker[Session],
    path: str | Path,
    now: datetime | None = None,
    actor: str = "cli",
    base: str | Path | None = None,
) -> int:
    """Create the campaign of ``path`` (and its challenge if new); returns the campaign's id.
    Its task and rules paths start from ``base`` (default: the campaign file's folder); a task
    may also be a pack task id (``culture-fr``)."""
    path = Path(path)
    root = path.parent if base is None else Path(base)
    spec = load_campaign_spec(path)
    now = now or datetime.now(UTC)
    tasks = []
    for i, entry in enumerate(spec.tasks):
        try:  # a task file (relative to the root) or a pack task id
            task_file = resolve_task(entry.task, root)
        except InputError as exc:
            raise InputError(exc.problem, file=str(path), field=f"tasks.{i}.task") from None
        task = load_task(task_file)
        for key in ("public_split", "hidden_split"):
            split = getattr(entry, key)
            if split is not None and split not in task.splits:
                raise InputError(
                    f"task {task.spec.id!r} has no split {split!r} "
                    f"(splits: {', '.join(task.splits)})",
                    file=str(path),
                    field=f"tasks.{i}.{key}",
                )
        tasks.append((entry, task))
    rules = (root / spec.campaign.rules).read_text("utf-8") if spec.campaign.rules else ""
    split_secrets = [secrets.token_hex(16) for _ in tasks]  # each partition's seed, never shown
    _check_rounded(spec, tasks, split_secrets, path)
    with db.begin() as session:
        challenge = session.get(Challenge, spec.challenge.id)
        signup = spec.challenge.signup
        if challenge is None:
            session.add(
                Challenge(
                    id=spec.challenge.id,
                    title=spec.challenge.title,
                    created_at=now,
                    signup=signup or SignupMode.OPEN,
                )
            )
        elif signup is not None and challenge.signup != signup:  # a later YAML changes it
            change = {"challenge": challenge.id, "before": challenge.signup, "after": signup}
            challenge.signup = signup
            record(session, actor, "challenge.signup", change, now)
        exists = session.scalar(
            select(Campaign).where(
                Campaign.challenge_id == spec.challenge.id, Campaign.slug == spec.campaign.id
            )
        )
        if exists is not None:
            raise InputError(
                f"campaign {spec.campaign.id!r} already exists in challenge {spec.challenge.id!r}",
                file=str(path),
                field="campaign.id",
            )
        campaign = Campaign(
            challenge_id=spec.challenge.id,
            slug=spec.campaign.id,
            title=spec.campaign.title,
            rules=rules,
            created_at=now,
            approval=spec.campaign.approval,
        )
        session.add(campaign)
        session.flush()
        sources = _anchor_sources(session, spec, path)
        for (entry, task), split_secret in zip(tasks, split_secrets, strict=True):
            source = sources.get(task.spec.id)
            session.add(
                CampaignTask(
                    campaign_id=campaign.id,
                    task_id=task.spec.id,
                    task_version=task.spec.version,
                    task_hash=task.hash,  # staff and the audit log only
                    # what the public sees: the spec and the public split, nothing hidden
                    public_hash=task.public_hash([entry.public_split]),
                    spec_path=str(task.path.resolve() if task.path else ""),
                    public_split=entry.public_split,
                    hidden_split=entry.hidden_split,
                    split_secret=split_secret,
                    anchor_source_id=None if source is None else source.id,
                    anchor_ids=None
                    if source is None
                    else anchor_ids(source, task, entry.hidden_split),
                )
            )
        for phase in spec.phases:
            session.add(
                Phase(
                    campaign_id=campaign.id,
                    kind=phase.kind,
                    starts_at=phase.start,
                    ends_at=phase.end,
                    quota_per_day=phase.quota.per_day,
                    quota_total=phase.quota.total,
                    feedback=phase.feedback,
                    leaderboard=phase.leaderboard,
                    accepts=list(phase.accepts),
                    ladder_step=phase.ladder_step,
                )
            )
        tasks_seen = [{"id": t.spec.id, "hash": t.hash} for _, t in tasks]
        record(
            session,
            actor,
            "campaign.create",
            {"campaign": campaign.id, "challenge": spec.challenge.id, "tasks": tasks_seen},
            now,
        )
        return campaign.id


def _check_rounded(
    spec: CampaignSpec, tasks: list[tuple[TaskEntry, Task]], split_secrets: list[str], path: Path
) -> None:
    """Refuse ``rounded`` feedback on a phase when a task's public part has fewer than
    ``ROUNDED_MIN_ITEMS`` items: one item would move its score by more than half the rounding
    step, and the rounded score would still tell items apart (``leaderboard.round_score``)."""
    rounded = [i for i, phase in enumerate(spec.phases) if phase.feedback == "rounded"]
    if not rounded:
        return
    for (entry, task), secret in zip(tasks, split_secrets, strict=True):
        n = len(public_positions(task.items(entry.hidden_split), secret))
        if n < ROUNDED_MIN_ITEMS:
            raise InputError(
                f"feedback 'rounded' hides nothing on task {task.spec.id!r}: its public part has "
                f"{n} items, so one item moves a score by {1 / max(n, 1):.3f}, more than half "
                f"the rounding step {ROUNDING_STEP}; rounded feedback needs at least "
                f"{ROUNDED_MIN_ITEMS} public items (a hidden split of about "
                f"{int(ROUNDED_MIN_ITEMS / PUBLIC_SHARE)}): use 'ladder' or 'none'",
                file=str(path),
                field=f"phases.{rounded[0]}.feedback",
            )


def _anchor_sources(session: Session, spec: CampaignSpec, path: Path) -> dict[str, CampaignTask]:
    """The tasks of the campaign named by ``anchors_from``, by task id."""
    if spec.campaign.anchors_from is None:
        return {}
    source = session.scalar(
        select(Campaign).where(
            Campaign.challenge_id == spec.challenge.id, Campaign.slug == spec.campaign.anchors_from
        )
    )
    if source is None:
        raise InputError(
            f"no campaign {spec.campaign.anchors_from!r} in challenge {spec.challenge.id!r} "
            "to carry anchors from",
            file=str(path),
            field="campaign.anchors_from",
        )
    rows = session.scalars(select(CampaignTask).where(CampaignTask.campaign_id == source.id))
    return {row.task_id: row for row in rows}


def anchor_ids(source: CampaignTask, task: Task, split: str) -> list[str]:
    """Ids of the hidden items the two campaigns share with identical content (inputs and
    reference): the same question with a corrected answer is not an anchor."""
    before = load_task(source.spec_path).items(source.hidden_split)
    now = task.items(split)
    old = {before.ids[i]: canonical_json(before.record(i)) for i in range(len(before))}
    return sorted(
        now.ids[i] for i in range(len(now)) if old.get(now.ids[i]) == canonical_json(now.record(i))
    )


def add_user(
    db: sessionmaker[Session], name: str, role: str, team: str | None = None, actor: str = "cli"
) -> str:
    """Create a user (and its team if new); returns an API token, shown this once."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}", field="role")
    if role == "participant" and team is None:
        raise InputError("a participant belongs to a team: give --team", field="team")
    name = clean_user_name(name)
    team = None if team is None else clean_name(team, "team")
    token = "plm_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with unique_names(), db.begin() as session:
        existing = look_alike(session, User, name)
        if existing is not None:
            raise InputError(
                f"user {existing!r} already exists (or looks like {name!r})", field="name"
            )
        team_id = None
        if team is not None:
            row = session.scalar(select(Team).where(Team.name == team))
            twin = None if row is not None else look_alike(session, Team, team)
            if twin is not None:  # joining a team takes its exact name; a look-alike is refused
                raise InputError(
                    f"team {twin!r} looks like {team!r}: give its exact name", field="team"
                )
            if row is None:
                row = Team(**keyed(team))
                session.add(row)
                session.flush()
            team_id = row.id
        user = User(**keyed(name), role=role, team_id=team_id, created_at=now)
        session.add(user)
        session.flush()
        session.add(Token(user_id=user.id, digest=_digest(token), created_at=now))
        record(session, actor, "user.add", {"name": name, "role": role, "team": team}, now)
    return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, token: str | None) -> User:
    """The user of an API token or of a browser session that has not expired."""
    user = None
    if token:
        user = session.scalar(
            select(User)
            .join(Token, Token.user_id == User.id)
            .where(
                Token.digest == _digest(token),
                or_(Token.expires_at.is_(None), Token.expires_at > datetime.now(UTC)),
            )
        )
    if user is None:
        raise Forbidden(Message("a valid API token is needed"))
    return user


def is_staff(user: User | None) -> bool:
    return user is not None and user.role in STAFF


def require_participant(user: User, doing: str) -> int:
    """The user's team id; :class:`Forbidden` unless they are a participant in a team."""
    if user.role != "participant" or user.team_id is None:
        raise Forbidden(Message("only a participant in a team {doing}", doing=Message(doing)))
    return user.team_id


def registration_status(
    session: Session, campaign_id: int, team_id: int | None
) -> RegistrationStatus | None:
    """The team's registration to the campaign (approved, pending, refused), or None."""
    if team_id is None:
        return None
    status = session.scalar(
        select(Registration.status).where(
            Registration.campaign_id == campaign_id, Registration.team_id == team_id
        )
    )
    return None if status is None else RegistrationStatus(status)


def is_registered(session: Session, campaign_id: int, team_id: int | None) -> bool:
    """Has the team registered to the campaign (accepting its rules), whatever its status?"""
    return registration_status(session, campaign_id, team_id) is not None


def submit_predictions(
    db: sessionmaker[Session],
    artifacts: Artifacts,
    token: str,
    campaign_id: int,
    task_id: str,
    file: str | Path,
    now: datetime | None = None,
    split: str = "hidden",
    system: str | None = None,
) -> str:
    """Check a predictions file against the hidden split (or, with ``split="public"``, the
    public one: scored with per-item results, never ranked), then count it and queue it, in one
    transaction; returns the submission id. An invalid file raises and uses no quota."""
    now = now or datetime.now(UTC)
    user, phase, entry = _submitter(db, token, campaign_id, task_id, "predictions", now)
    if split not in ("hidden", "public") or (split == "public" and entry.public_split is None):
        raise InputError(
            Message(
                "task {task} has no {split} split to submit to", task=repr(task_id), split=split
            ),
            field="split",
        )
    task = load_task(entry.spec_path)
    target = entry.hidden_split if split == "hidden" else entry.public_split
    # the check alone: a Scorer would also hash every split of the task on each submission.
    # The reader decides the format (from the name, else the content) and refuses a name the
    # content contradicts, so the stored artifact, which has no name, reads the same in the
    # worker (from its content alone)
    read_predictions(
        str(file),
        task.items(target),
        task.value_kind,
        other_splits=_other_splits(task, entry, split),
    )  # names file, line, field
    return _queue(
        db, user, phase, entry, "predictions", now, store=(artifacts, file), split=split,
        system=system, details={"format": predictions_format(file)},
    )  # fmt: skip


#: how a participant picks each split on the submit page (and the API's ``split``)
SPLIT_CHOICE = {
    "public": Message("“development” (split=public)"),
    "hidden": Message("“hidden test” (split=hidden)"),
}


def _other_splits(task: Task, entry: CampaignTask, split: str) -> list[OtherSplit]:
    """The campaign task's other split, so that a file sent to the wrong one is told so."""
    other = "public" if split == "hidden" else "hidden"
    name = entry.public_split if other == "public" else entry.hidden_split
    if name is None or name == (entry.hidden_split if split == "hidden" else entry.public_split):
        return []
    return [OtherSplit(name, SPLIT_CHOICE[other], lambda: task.items(name).ids)]


def submit_model_file(
    db: sessionmaker[Session],
    artifacts: Artifacts,
    token: str,
    campaign_id: int,
    task_id: str,
    file: str | Path,
    now: datetime | None = None,
    system: str | None = None,
) -> str:
    """A GGUF model file that the platform's worker runs itself on the hidden split, in the
    sandbox (``backends.sandboxed``)."""
    now = now or datetime.now(UTC)
    user, phase, entry = _submitter(db, token, campaign_id, task_id, "model_file", now)
    _needs_model_protocol(entry)
    # read as data, every length bounded (pickles refused): a hostile header is refused here,
    # before anything is stored or counted, and never reaches llama.cpp's loader
    check_gguf(file)
    return _queue(db, user, phase, entry, "model_file", now, store=(artifacts, file), system=system)


def submit_endpoint(
    db: sessionmaker[Session],
    token: str,
    campaign_id: int,
    task_id: str,
    url: str,
    model: str,
    api_key: str | None = None,
    now: datetime | None = None,
    system: str | None = None,
    *,
    vault: Vault | None = None,
) -> str:
    """An OpenAI-compatible endpoint that the worker queries with the hidden split's inputs.
    The key is kept for the worker only, sealed by ``vault`` (needed when there is a key): no
    response ever returns it."""
    now = now or datetime.now(UTC)
    user, phase, entry = _submitter(db, token, campaign_id, task_id, "endpoint", now)
    _needs_model_protocol(entry)
    if not url.startswith(("http://", "https://")) or not model.strip():
        raise InputError(
            Message("an endpoint is an http(s) base URL and a model name"), field="url"
        )
    if api_key and vault is None:
        raise ValueError("an endpoint's API key is stored sealed: pass the vault")
    secret = vault.seal(api_key) if api_key and vault is not None else None
    return _queue(
        db, user, phase, entry, "endpoint", now,
        endpoint_url=url.rstrip("/"), endpoint_model=model.strip(), secret=secret,
        system=system,
    )  # fmt: skip


def _needs_model_protocol(entry: CampaignTask) -> None:
    if load_task(entry.spec_path).protocol is None:
        raise InputError(
            Message(
                "task {task} scores prediction files: a model cannot be run on it",
                task=repr(entry.task_id),
            ),
            field="kind",
        )


def _submitter(
    db: sessionmaker[Session], token: str, campaign_id: int, task_id: str, kind: str, now: datetime
) -> tuple[User, Phase, CampaignTask]:
    """Who submits, in which open phase, on which task — or why not."""
    with db() as session:
        user = authenticate(session, token)
        phase, entry = _open_phase(session, campaign_id, task_id, now)
        registration = registration_status(session, campaign_id, user.team_id)
    require_participant(user, "submits")
    if kind not in phase.accepts:
        raise Forbidden(
            Message(
                "the {phase} phase does not accept {kind} submissions", phase=phase.kind, kind=kind
            )
        )
    if registration is None:
        raise Forbidden(Message("register your team to the campaign (accepting its rules) first"))
    if registration == RegistrationStatus.PENDING:
        raise Forbidden(
            Message(
                "your team's registration waits for an organiser's approval: "
                "you may submit once it is approved"
            )
        )
    if registration != RegistrationStatus.APPROVED:
        raise Forbidden(Message("an organiser refused your team's registration to this campaign"))
    return user, phase, entry


def _queue(
    db: sessionmaker[Session],
    user: User,
    phase: Phase,
    entry: CampaignTask,
    kind: str,
    now: datetime,
    store: tuple[Artifacts, str | Path] | None = None,
    details: dict[str, str] | None = None,
    **fields: str | None,
) -> str:
    """Count the submission against the quotas and queue its job: one transaction. The file
    (``store``) is stored only once the system and the quota are checked, and removed again if
    the transaction fails: a refused submission leaves nothing behind. ``details`` go to the
    audit event only (a predictions file's format)."""
    assert user.team_id is not None
    submission_id = uuid.uuid4().hex
    system = fields.pop("system", None)
    written: str | None = None  # the object this call stored, to remove if the transaction fails
    try:
        with db.begin() as session:
            system_id = None
            if system is not None:
                system_id = session.scalar(
                    select(System.id).where(System.team_id == user.team_id, System.name == system)
                )
                if system_id is None:
                    raise InputError(
                        Message("your team has no system named {name}", name=repr(system)),
                        field="system",
                    )
            reserve(session, user.team_id, phase, now)
            artifact = ""
            if store is not None:
                artifact, new = store[0].put(store[1])
                written = artifact if new else None
            session.add(
                Submission(
                    id=submission_id,
                    phase_id=phase.id,
                    campaign_task_id=entry.id,
                    team_id=user.team_id,
                    user_id=user.id,
                    kind=kind,
                    artifact=artifact,
                    system_id=system_id,
                    status="queued",
                    created_at=now,
                    **fields,
                )
            )
            session.flush()  # the job refers to the submission
            session.add(
                Job(submission_id=submission_id, status="queued", attempts=0, created_at=now)
            )
            payload = {"submission": submission_id, "task": entry.task_id, "phase": phase.kind}
            shown = {k: v for k, v in fields.items() if k != "secret"} | {"artifact": artifact}
            if system is not None:
                shown["system"] = system
            shown |= details or {}
            action = "submission.create"
            record(session, user.name, action, {**payload, "kind": kind, **shown}, now)
    except BaseException:
        if store is not None and written is not None:
            _discard_unless_used(db, store[0], written)
        raise
    return submission_id


def _discard_unless_used(db: sessionmaker[Session], artifacts: Artifacts, digest: str) -> None:
    """Remove an object a failed submission stored, unless a submission committed meanwhile
    refers to it (the same file, sent by someone else at the same moment)."""
    with db() as session:
        used = session.scalar(select(Submission.id).where(Submission.artifact == digest).limit(1))
    if used is None:
        artifacts.discard(digest)


def _open_phase(
    session: Session, campaign_id: int, task_id: str, now: datetime
) -> tuple[Phase, CampaignTask]:
    entry = session.scalar(
        select(CampaignTask).where(
            CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id
        )
    )
    if entry is None:
        raise InputError(
            Message("no task {task} in this campaign", task=repr(task_id)), field="task"
        )
    phases = session.scalars(select(Phase).where(Phase.campaign_id == campaign_id)).all()
    for phase in phases:
        if phase.starts_at <= now < phase.ends_at:
            return phase, entry
    raise Forbidden(Message("no phase of this campaign is open now"))
