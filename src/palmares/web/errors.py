"""Every error the API returns is JSON ``{code, message, hint}`` with a 4xx status; the same
errors on a page (any path outside ``/api``) are an HTML page in the visitor's language.

Messages come from the same exceptions the CLI prints (file, line, field), and never quote a
hidden reference: validation errors about a submission name ids, lines and fields only.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from palmares.campaigns import Forbidden, QuotaExceeded
from palmares.core import InputError


class NotFound(Exception):
    """Absent, or not visible to the caller (the two are not told apart)."""


#: renders an error as a page: (request, status, message) -> response
PageRenderer = Callable[[Request, int, str], Response]


def error_response(
    request: Request,
    page: PageRenderer | None,
    status: int,
    code: str,
    message: str,
    hint: str = "",
) -> Response:
    """An error as the caller reads it: JSON ``{code, message, hint}`` under ``/api``, else the
    page ``page`` renders (when there is one)."""
    if page is not None and not request.url.path.startswith("/api"):
        return page(request, status, message)
    return JSONResponse({"code": code, "message": message, "hint": hint}, status_code=status)


def install(app: FastAPI, page: PageRenderer | None = None) -> None:
    def _error(request: Request, status: int, code: str, message: str, hint: str = "") -> Response:
        return error_response(request, page, status, code, message, hint)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        return _error(
            request, 400, "invalid_input", str(exc), "fix the file or field named, then retry"
        )

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        status = 401 if "token" in str(exc) else 403
        return _error(request, status, "forbidden", str(exc))

    @app.exception_handler(QuotaExceeded)
    async def _quota(request: Request, exc: QuotaExceeded) -> Response:
        return _error(request, 429, "quota_exceeded", str(exc), "wait for the next day or phase")

    @app.exception_handler(NotFound)
    async def _missing(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "not_found", str(exc) or "not found")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(request, 422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        # 413: the same code as the body limit's own refusals (palmares.web.limits)
        code = "too_large" if exc.status_code == 413 else "http_error"
        return _error(request, exc.status_code, code, str(exc.detail))
