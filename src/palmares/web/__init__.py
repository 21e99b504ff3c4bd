"""The HTTP API (FastAPI): campaigns, submissions, leaderboards, health."""

from palmares.web.app import app_from_environment, create_app
from palmares.web.settings import Settings

__all__ = ["Settings", "app_from_environment", "create_app"]
