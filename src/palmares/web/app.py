"""The FastAPI application: one router per resource, settings passed in."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from palmares._version import __version__
from palmares.campaigns import Artifacts
from palmares.store import migrate, open_engine, sessions
from palmares.web import errors, pages
from palmares.web.routers import campaigns, health, leaderboards, participation, submissions
from palmares.web.settings import Settings

PAGES = Path(__file__).resolve().parent / "pages"


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Palmarès", version=__version__)
    engine = open_engine(settings.db)
    migrate(engine)
    app.state.settings = settings
    app.state.db = sessions(engine)
    app.state.artifacts = Artifacts(settings.artifacts)
    errors.install(app)
    for module in (health, campaigns, participation, submissions, leaderboards):
        app.include_router(module.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=PAGES / "static"), name="static")
    return app
