"""Pages anyone may see: home, challenge (its campaigns on a timeline, progress on anchor
items), campaign (phases with countdowns, tasks, registration state), task datasheet, and
leaderboard (the public and private parts as the phase allows, overall or on one slice).

What a visitor may see follows the API's rules, decided here again for the page: the public
board is withheld from non-staff while ``public_board_withheld``; the private part and progress
on anchor items are for staff until the phase (the campaign) has ended; of a hidden split, only
its size is ever shown.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from palmares.campaigns import (
    RegistrationStatus,
    is_registered,
    progress,
    public_board_withheld,
    registration_status,
    task_data,
)
from palmares.campaigns.leaderboard import (
    latest_snapshot,
    shown_board,
    slice_board,
    slice_options,
)
from palmares.campaigns.samples import csv_text, guide, sample_submission
from palmares.campaigns.samples import jsonl as sample_jsonl
from palmares.campaigns.verdicts import Direction
from palmares.core import InputError, Message
from palmares.store import Campaign, CampaignTask, Challenge, Phase, Submission
from palmares.tasks import load_task
from palmares.web.deps import DB, ArtifactsDep
from palmares.web.errors import NotFound
from palmares.web.pages._base import ViewerDep, render
from palmares.web.pages.i18n import translator
from palmares.web.pages.plot import forest_plot
from palmares.web.pages.timeline import (
    Lane,
    Span,
    day_label,
    phase_view,
    progress_svg,
    timeline_svg,
)
from palmares.web.routers._params import NO_NUL, Id, Name

router = APIRouter()
#: a split named in a download's address (``?split=…``)
Split = Annotated[str, Query(min_length=1, max_length=200, pattern=NO_NUL)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, seen: ViewerDep) -> HTMLResponse:
    with db() as s:
        challenges = []
        for challenge in s.scalars(select(Challenge).order_by(Challenge.created_at)):
            campaigns = s.scalars(
                select(Campaign).where(Campaign.challenge_id == challenge.id).order_by(Campaign.id)
            ).all()
            challenges.append(
                {"id": challenge.id, "title": challenge.title, "campaigns": campaigns}
            )
        welcome = None
        if request.query_params.get("welcome") and seen.user is not None:
            # just signed up: the next step is to register the team to a campaign still running
            now = datetime.now(UTC)
            running = select(Phase.campaign_id).where(Phase.ends_at > now)
            welcome = s.scalars(
                select(Campaign).where(Campaign.id.in_(running)).order_by(Campaign.id)
            ).all()
    return render(request, seen, "home.html", challenges=challenges, welcome=welcome)


@router.get("/challenges/{challenge_id}", response_class=HTMLResponse)
def challenge_page(
    challenge_id: str, request: Request, db: DB, seen: ViewerDep, artifacts: ArtifactsDep
) -> HTMLResponse:
    now = datetime.now(UTC)
    _ = translator(seen.lang)  # the figures' texts are written here, not in a template
    with db() as s:
        challenge = s.get(Challenge, challenge_id)
        if challenge is None:
            raise NotFound(Message("no challenge {challenge}", challenge=repr(challenge_id)))
        campaigns = s.scalars(
            select(Campaign)
            .where(Campaign.challenge_id == challenge_id)
            .order_by(Campaign.created_at, Campaign.id)
        ).all()
        ids = [c.id for c in campaigns]
        phases: dict[int, list[Phase]] = defaultdict(list)
        for p in s.scalars(
            select(Phase).where(Phase.campaign_id.in_(ids)).order_by(Phase.starts_at)
        ):
            phases[p.campaign_id].append(p)
        anchored = s.scalars(
            select(CampaignTask)
            .where(CampaignTask.campaign_id.in_(ids), CampaignTask.anchor_source_id.is_not(None))
            .order_by(CampaignTask.campaign_id, CampaignTask.task_id)
        ).all()
        source_of = {
            ct.id: ct.campaign_id
            for ct in s.scalars(
                select(CampaignTask).where(
                    CampaignTask.id.in_([a.anchor_source_id for a in anchored])
                )
            )
        }
        by_id = {c.id: c for c in campaigns}
        for cid in set(source_of.values()) - set(by_id):  # anchors from another challenge
            found = s.get(Campaign, cid)
            if found is not None:
                by_id[cid] = found
    lanes = [
        Lane(c.title, [Span(p.kind, p.starts_at, p.ends_at) for p in phases[c.id]])
        for c in campaigns
    ]
    timeline = timeline_svg(
        lanes, now, _("Calendrier des campagnes") + " — " + challenge.title, _("aujourd'hui")
    )
    sections = []
    for n, entry in enumerate(anchored):
        later, earlier = (
            by_id[entry.campaign_id],
            by_id.get(source_of.get(entry.anchor_source_id or 0, 0)),
        )
        ended = bool(phases[later.id]) and max(p.ends_at for p in phases[later.id]) <= now
        section: dict[str, Any] = {
            "task": entry.task_id,
            "later": later,
            "earlier": earlier,
            "anchors": len(entry.anchor_ids or []),
            "visible": seen.staff or ended,
            "report": None,
        }
        if section["visible"] and earlier is not None and section["anchors"]:
            report = _progress(db, artifacts, later.id, entry)
            if report is not None:
                section["report"] = report
                section["teams"] = _progress_table(report["rows"], earlier.slug, later.slug)
                title = _("Progrès sur les items d'ancrage") + (
                    f" — {entry.task_id}, {report['metric']} ({report['anchors']} items)"
                )
                section["plot"] = progress_svg(
                    report["rows"],
                    (earlier.slug, later.slug),
                    (earlier.title, later.title),
                    title,
                    ident=f"progress-{n}",
                )
        sections.append(section)
    table = [
        {"campaign": c, "phases": [phase_view(p, now) for p in phases[c.id]]} for c in campaigns
    ]
    return render(
        request,
        seen,
        "challenge.html",
        challenge=challenge,
        campaigns=table,
        timeline=timeline,
        sections=sections,
        today=now.date().isoformat(),
    )


#: progress reports by (artifacts, campaign, task, the scored files they read): scoring every
#: team's files again on each view would cost seconds on a large task, and once a campaign has
#: ended (when most visitors look) its files no longer change
_REPORTS: dict[tuple[Any, ...], dict[str, Any] | None] = {}


def _progress(
    db: DB, artifacts: ArtifactsDep, campaign_id: int, entry: CampaignTask
) -> dict[str, Any] | None:
    with db() as s:
        files = s.execute(
            select(Submission.id, Submission.artifact)
            .where(
                Submission.campaign_task_id.in_([entry.id, entry.anchor_source_id]),
                Submission.kind == "predictions",
                Submission.split == "hidden",
                Submission.status == "scored",
            )
            .order_by(Submission.id)
        ).all()
    key = (str(artifacts.root), campaign_id, entry.task_id, tuple(map(tuple, files)))
    if key not in _REPORTS:
        try:
            _REPORTS[key] = progress(db, artifacts, campaign_id, entry.task_id)
        except InputError:  # no anchor items after all
            _REPORTS[key] = None
        while len(_REPORTS) > 64:  # oldest first: dicts keep insertion order
            _REPORTS.pop(next(iter(_REPORTS)))
    return _REPORTS[key]


def _progress_table(rows: list[dict[str, Any]], earlier: str, later: str) -> list[dict[str, Any]]:
    """One row per team: its score at the earlier and at the later campaign (either may lack)."""
    teams: dict[str, dict[str, Any]] = {}
    for row in rows:
        slot = (
            "before"
            if row["campaign"] == earlier
            else "after"
            if row["campaign"] == later
            else None
        )
        if slot is not None:
            teams.setdefault(row["team"], {"team": row["team"], "before": None, "after": None})[
                slot
            ] = row
    return [teams[t] for t in sorted(teams)]


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(campaign_id: Id, request: Request, db: DB, seen: ViewerDep) -> HTMLResponse:
    now = datetime.now(UTC)
    with db() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(Message("no campaign {campaign}", campaign=campaign_id))
        challenge = s.get(Challenge, campaign.challenge_id)
        phases = [
            phase_view(p, now)
            for p in s.scalars(
                select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.starts_at)
            )
        ]
        entries = s.scalars(
            select(CampaignTask)
            .where(CampaignTask.campaign_id == campaign_id)
            .order_by(CampaignTask.task_id)
        ).all()
        team = seen.user.team_id if seen.user is not None else None
        registered = is_registered(s, campaign_id, team) if team is not None else None
        registration = registration_status(s, campaign_id, team)
    tasks = [
        {"id": t.task_id, "version": t.task_version, "title": _title(t.spec_path, t.task_hash)}
        for t in entries
    ]
    return render(
        request,
        seen,
        "campaign.html",
        campaign=campaign,
        challenge=challenge,
        phases=phases,
        tasks=tasks,
        participant=team is not None,
        registered=registered,
        registration=registration,
    )


@lru_cache(maxsize=256)
def _title(spec_path: str, task_hash: str) -> str:
    """A task's title (its content hash is pinned by the campaign, so it keys the cache)."""
    try:
        return load_task(spec_path).spec.title
    except (InputError, OSError):
        return ""


@lru_cache(maxsize=32)
def _datasheet(
    spec_path: str, task_hash: str, public_split: str | None, hidden_split: str
) -> dict[str, Any]:
    """What the datasheet shows of a task; read once per process (the items are counted and
    their input fields named, then dropped). Sizes are those of the splits served here, not the
    description's text; of the hidden split, only its size and its input fields' names."""
    task = load_task(spec_path)
    spec, ds = task.spec, task.dataset_spec
    splits = []
    inputs: list[str] = []
    example_id = "item-1"
    if public_split is not None:
        public = task.items(public_split)
        splits.append({"name": public_split, "role": "public", "count": len(public)})
        inputs = list(public.inputs)
        example_id = public.ids[0] if len(public) else example_id
    if hidden_split != public_split:
        hidden = task.items(hidden_split)
        splits.append({"name": hidden_split, "role": "hidden", "count": len(hidden)})
        inputs = inputs or list(hidden.inputs)
    protocol = spec.protocol.model_dump()
    settings = [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in protocol.items()
        if key != "type"
    ]
    return {
        "title": spec.title,
        "version": spec.version,
        "description": spec.description,
        "license": spec.license,
        "language": spec.language,
        "source": getattr(spec, "source", None),  # for specs that name one
        "splits": splits,
        "fields": {
            "id": ds.id_field,
            "inputs": inputs,  # what a download holds, declared or not
            "reference": ds.reference_field,
            "slices": list(ds.slice_fields),
            "group": ds.group_field,
        },
        "protocol": protocol.get("type", "predictions"),
        "settings": settings,
        "metrics": [m.label for m in spec.metrics],
        "primary": spec.primary_metric,
        "confidence": spec.statistics.confidence,
        "guide": guide(task, public_split, example_id),
    }


@router.get("/campaigns/{campaign_id}/tasks/{task_id}", response_class=HTMLResponse)
def task_page(
    campaign_id: Id, task_id: str, request: Request, db: DB, seen: ViewerDep
) -> HTMLResponse:
    """The task's datasheet, its downloads (as :func:`task_data` allows them: the public
    split to everyone, the hidden split's ids and inputs to approved teams and staff) and what
    a prediction looks like. Of the hidden split, never an item's reference or slice value."""
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
        kinds = s.scalars(
            select(Phase.kind).where(Phase.campaign_id == campaign_id).order_by(Phase.starts_at)
        ).all()
        team = seen.user.team_id if seen.user is not None else None
        registration = registration_status(s, campaign_id, team)
    sheet = _datasheet(entry.spec_path, entry.task_hash, entry.public_split, entry.hidden_split)
    return render(
        request,
        seen,
        "task.html",
        campaign=campaign,
        entry=entry,
        sheet=sheet,
        phases=kinds,
        participant=team is not None,
        registration=registration,
        hidden_open=seen.staff or registration is RegistrationStatus.APPROVED,
        base_url=str(request.base_url).rstrip("/"),
    )


def _attachment(body: str, filename: str, media_type: str) -> Response:
    quoted = quote(filename)
    return Response(
        body.encode(),
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{quoted}\"; filename*=UTF-8''{quoted}",
            "Cache-Control": "private, no-store",
        },
    )


def _downloader(seen: ViewerDep, request: Request, db: DB, campaign_id: int, task_id: str,
                split: str) -> str | None:  # fmt: skip
    """The token to download ``split`` with: none for a public split; for any other, the
    visitor must sign in (then :func:`task_data` decides)."""
    with db() as s:
        public = s.scalar(
            select(CampaignTask.public_split).where(
                CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id
            )
        )
    if split == public:
        return seen.token
    return seen.require(request)[1]


@router.get("/campaigns/{campaign_id}/tasks/{task_id}/data")
def data_download(
    campaign_id: Id, task_id: Name, request: Request, db: DB, seen: ViewerDep, split: Split
) -> Response:
    """A split as JSON Lines, the API's ``/data/{split}`` for the browser (the same service):
    a public split with its references; the hidden one, ids and inputs only."""
    token = _downloader(seen, request, db, campaign_id, task_id, split)
    records = list(task_data(db, token, campaign_id, task_id, split))
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return _attachment(body, f"{task_id}-{split}.jsonl", "application/x-ndjson")


@router.get("/campaigns/{campaign_id}/tasks/{task_id}/sample")
def sample_download(
    campaign_id: Id,
    task_id: Name,
    request: Request,
    db: DB,
    seen: ViewerDep,
    split: Split,
    format: Literal["jsonl", "csv"] = "jsonl",
) -> Response:
    """A sample submission of ``split``: every id with a placeholder prediction that passes
    the upload's check (whoever may download the split may have it)."""
    token = _downloader(seen, request, db, campaign_id, task_id, split)
    records, kind = sample_submission(db, token, campaign_id, task_id, split)
    name = f"{task_id}-{split}-exemple.{format}"
    if format == "csv":
        return _attachment(csv_text(records, kind), name, "text/csv")
    return _attachment(sample_jsonl(records), name, "application/x-ndjson")


@router.get("/campaigns/{campaign_id}/tasks/{task_id}/leaderboard", response_class=HTMLResponse)
def leaderboard_page(
    campaign_id: Id,
    task_id: str,
    request: Request,
    db: DB,
    seen: ViewerDep,
    phase: str = "dev",
    part: Literal["public", "private"] = "public",
    slice: str = "",  # the query parameter's name: "field:value"
) -> HTMLResponse:
    now = datetime.now(UTC)
    with db() as s:
        campaign = s.get(Campaign, campaign_id)
        phases = s.scalars(
            select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.starts_at)
        ).all()
        row = next((p for p in phases if p.kind == phase), None)
        if campaign is None or row is None:
            raise NotFound(
                Message(
                    "no {phase} phase in campaign {campaign}", phase=phase, campaign=campaign_id
                )
            )
        known = s.scalar(
            select(CampaignTask.id).where(
                CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id
            )
        )
        if known is None:
            raise NotFound(
                Message(
                    "no task {task} in campaign {campaign}",
                    task=repr(task_id),
                    campaign=campaign_id,
                )
            )
    ended = row.ends_at <= now
    private_open = seen.staff or ended
    withheld = public_board_withheld(row, now) and not seen.staff
    hidden = withheld if part == "public" else not private_open
    rows: list[dict[str, Any]] = []
    ladder = False
    way, frozen, frozen_elsewhere = Direction(), None, []
    if not hidden:
        board = shown_board(db, campaign_id, task_id, row, part, now, seen.staff)
        rows, ladder, way, frozen = board.rows, board.ladder, board.direction, board.frozen
    if frozen is not None and not rows:  # an empty frozen board: where the results are
        frozen_elsewhere = [
            p.kind
            for p in phases
            if p.kind != phase
            and p.ends_at <= now
            and ((snap := latest_snapshot(db, p.id, task_id)) is not None and snap[part])
        ]
    options = slice_options(rows)
    field, _sep, value = slice.partition(":")
    chosen = slice if (field, value) in options else ""
    shown = slice_board(rows, field, value) if chosen else rows
    title = f"{task_id} — {phase}, {part}" + (f" — {field} = {value}" if chosen else "")
    return render(
        request,
        seen,
        "leaderboard.html",
        campaign=campaign,
        rows=shown,
        plot=forest_plot(shown, title) if shown else "",
        hidden=hidden,
        withheld=withheld,
        private_open=private_open,
        phase=phase,
        phases=[p.kind for p in phases],
        ends=day_label(row.ends_at, end=True),
        ends_at=row.ends_at.isoformat(),
        part=part,
        task_id=task_id,
        options=options,
        chosen=chosen,
        slice_field=field if chosen else "",
        slice_value=value if chosen else "",
        ladder=ladder,
        ladder_phase=row.feedback == "ladder" and not ended,
        grouped=any(r.get("group") for r in shown),
        direction=way.as_dict(),
        frozen=frozen,
        frozen_label=day_label(datetime.fromisoformat(frozen["created_at"])) if frozen else "",
        superseded_label=(
            day_label(datetime.fromisoformat(frozen["supersedes_created_at"]))
            if frozen and frozen.get("supersedes_created_at")
            else ""
        ),
        frozen_elsewhere=frozen_elsewhere,
    )
