"""Server-rendered pages of the web UI (issue #5, first slice)."""

from palmares.web.pages.router import router

__all__ = ["router"]
