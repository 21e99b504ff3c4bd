"""Server-rendered pages (Jinja2, autoescaped): home, campaign, leaderboard, in French (default)
or English (``?lang=en``, remembered in a cookie)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from palmares.campaigns import leaderboard
from palmares.store import Campaign, CampaignTask, Challenge, Phase
from palmares.web.deps import DB
from palmares.web.errors import NotFound
from palmares.web.pages.i18n import DEFAULT, LANGUAGES, translator
from palmares.web.pages.plot import forest_plot

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).resolve().parent
_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _render(request: Request, name: str, **context: Any) -> HTMLResponse:
    asked = request.query_params.get("lang")
    lang = asked if asked in LANGUAGES else request.cookies.get("lang", DEFAULT)
    if lang not in LANGUAGES:
        lang = DEFAULT
    html = _env.get_template(name).render(
        lang=lang, languages=LANGUAGES, _=translator(lang), **context
    )
    response = HTMLResponse(html)
    if asked in LANGUAGES:
        response.set_cookie("lang", lang, httponly=True, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB) -> HTMLResponse:
    with db() as s:
        challenges = []
        for challenge in s.scalars(select(Challenge).order_by(Challenge.created_at)):
            campaigns = s.scalars(
                select(Campaign).where(Campaign.challenge_id == challenge.id).order_by(Campaign.id)
            ).all()
            challenges.append({"title": challenge.title, "campaigns": campaigns})
    return _render(request, "home.html", challenges=challenges)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(campaign_id: int, request: Request, db: DB) -> HTMLResponse:
    with db() as s:
        campaign = s.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        phases = [
            {"kind": p.kind, "start": p.starts_at.isoformat(), "end": p.ends_at.isoformat()}
            for p in s.scalars(select(Phase).where(Phase.campaign_id == campaign_id))
        ]
        tasks = [
            {"id": t.task_id, "version": t.task_version}
            for t in s.scalars(select(CampaignTask).where(CampaignTask.campaign_id == campaign_id))
        ]
    return _render(request, "campaign.html", campaign=campaign, phases=phases, tasks=tasks)


@router.get("/campaigns/{campaign_id}/tasks/{task_id}/leaderboard", response_class=HTMLResponse)
def leaderboard_page(
    campaign_id: int, task_id: str, request: Request, db: DB, phase: str = "dev"
) -> HTMLResponse:
    """The public part's ranking, as anonymous visitors may see it (the API decides the same)."""
    with db() as s:
        row = s.scalar(select(Phase).where(Phase.campaign_id == campaign_id, Phase.kind == phase))
        if row is None:
            raise NotFound(f"no {phase} phase in campaign {campaign_id}")
        hidden = row.ends_at > datetime.now(UTC) and (
            row.feedback == "none" or row.leaderboard == "hidden"
        )
    rows = [] if hidden else leaderboard(db, campaign_id, task_id, phase, "public")
    plot = forest_plot(rows, f"{task_id} — {phase}") if rows else ""
    return _render(
        request,
        "leaderboard.html",
        rows=rows,
        plot=plot,
        hidden=hidden,
        phase=phase,
        task_id=task_id,
    )
