"""Server-rendered pages of the web UI: one module per area (public pages, accounts,
participation, the organiser console), sharing :mod:`._base`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from palmares.core import Message
from palmares.web.pages import account, console, participate, public
from palmares.web.pages._base import CsrfFailed, LoginRequired, login_url, render, viewer
from palmares.web.pages.i18n import say

#: the page modules, each with its ``router`` (a test checks every page's access rules)
MODULES = (public, account, participate, console)
router = APIRouter(include_in_schema=False)
for _module in MODULES:
    router.include_router(_module.router)


def error_page(request: Request, status: int, message: Any) -> Response:
    """An error as a page in the visitor's language: ``message`` (an exception, a
    :class:`~palmares.core.Message` or an English text) is translated (:func:`.i18n.say`)."""
    seen = viewer(request, request.app.state.db)
    told = say(message, seen.lang)
    return render(request, seen, "error.html", status=status, status_code=status, message=told)


def install(app: FastAPI) -> None:
    """The pages' own failures: a form without its CSRF token, a page that needs a login."""

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> Response:
        return error_page(
            request,
            403,
            Message("This form has expired or was not sent from this site: reload the page."),
        )

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(str(exc)), status_code=303)


__all__ = ["MODULES", "error_page", "install", "router"]
