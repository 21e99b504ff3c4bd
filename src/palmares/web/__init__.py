"""The HTTP API (FastAPI): campaigns, submissions, leaderboards, health."""

from palmares.web.app import create_app
from palmares.web.settings import Settings

__all__ = ["Settings", "create_app"]
