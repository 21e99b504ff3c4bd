"""The FastAPI application: one router per resource, settings passed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from palmares._version import __version__
from palmares.campaigns import Artifacts
from palmares.store import migrate, open_engine, sessions
from palmares.web import errors, pages
from palmares.web.limits import MB, BodyLimit
from palmares.web.routers import (
    campaigns,
    health,
    leaderboards,
    participation,
    submissions,
    tokens,
)
from palmares.web.settings import Settings

PAGES = Path(__file__).resolve().parent / "pages"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def app_from_environment() -> FastAPI:
    """The app with its settings read from ``PALMARES_*`` now (a factory: each process of
    ``palmares serve --processes N`` builds its own)."""
    return create_app(Settings())


def create_app(settings: Settings) -> FastAPI:
    # FastAPI's /docs and /redoc load swagger-ui and redoc from a CDN: off unless asked for
    # (``api_docs``), so that no page loads anything from elsewhere; /openapi.json stays
    docs = settings.api_docs
    app = FastAPI(
        title="Palmarès",
        version=__version__,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    engine = open_engine(settings.db)
    migrate(engine)
    app.state.settings = settings
    app.state.db = sessions(engine)
    app.state.artifacts = Artifacts(settings.artifacts)
    errors.install(app, page=pages.error_page)
    pages.install(app)
    for module in (health, campaigns, participation, submissions, leaderboards, tokens):
        app.include_router(module.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=PAGES / "static"), name="static")
    # bodies are held to their limit as they stream in, before any route parses them (inside
    # the headers' middleware below, so that a refusal carries the same headers)
    app.add_middleware(
        BodyLimit,
        upload_bytes=settings.max_upload_mb * MB,
        model_bytes=settings.max_model_mb * MB,
        page=pages.error_page,
    )

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # pages load nothing from elsewhere and run no inline script: a script that slipped
        # through escaping would still not run
        response = await call_next(request)
        if not (docs and request.url.path in ("/docs", "/redoc")):  # they inline scripts
            response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
