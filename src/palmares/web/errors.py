"""Every error the API returns is JSON ``{code, message, hint}`` with a 4xx status; the same
errors on a page (any path outside ``/api``) are an HTML page in the visitor's language.

Messages come from the same exceptions the CLI prints (file, line, field), and never quote a
hidden reference: validation errors about a submission name ids, lines and fields only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from palmares.campaigns import Forbidden, QuotaExceeded
from palmares.core import InputError, Message


class NotFound(Exception):
    """Absent, or not visible to the caller (the two are not told apart). Raised with a
    :class:`~palmares.core.Message`, a page tells it in the visitor's language."""

    def __init__(self, message: str | Message = "") -> None:
        self.message = message if isinstance(message, Message) else None
        super().__init__(str(message))


#: renders an error as a page: (request, status, message) -> response; the message is a text,
#: a :class:`~palmares.core.Message` or the exception itself, which the page translates
PageRenderer = Callable[[Request, int, Any], Response]

#: what a page says of an HTTP error that carries no message of ours (Starlette's own 404, 405)
_HTTP = {
    404: Message("not found"),
    405: Message("this address does not take this method"),
}

#: pydantic's error types that a bad address gives, as a page tells them
_VALIDATION = {
    "int_parsing": Message("a whole number is expected"),
    "int_type": Message("a whole number is expected"),
    "literal_error": Message("this value is not one of those accepted"),
    "enum": Message("this value is not one of those accepted"),
    "missing": Message("this value is missing"),
    "string_too_long": Message("this value is too long"),
    "string_too_short": Message("this value is too short"),
    "string_pattern_mismatch": Message("this value does not have the expected form"),
    "greater_than_equal": Message("this number is too small"),
    "less_than_equal": Message("this number is too large"),
}


def error_response(
    request: Request,
    page: PageRenderer | None,
    status: int,
    code: str,
    message: Any,
    hint: str = "",
    shown: Any = None,
) -> Response:
    """An error as the caller reads it: JSON ``{code, message, hint}`` under ``/api`` (English,
    ``str(message)``), else the page ``page`` renders (when there is one) from ``shown`` (or
    ``message``): an exception or a :class:`Message`, translated there."""
    if page is not None and not request.url.path.startswith("/api"):
        return page(request, status, message if shown is None else shown)
    body = {"code": code, "message": str(message), "hint": hint}
    return JSONResponse(body, status_code=status)


def install(app: FastAPI, page: PageRenderer | None = None) -> None:
    def _error(
        request: Request, status: int, code: str, message: Any, hint: str = "", shown: Any = None
    ) -> Response:
        return error_response(request, page, status, code, message, hint, shown)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        return _error(request, 400, "invalid_input", exc, "fix the file or field named, then retry")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        status = 401 if "token" in str(exc) else 403
        return _error(request, status, "forbidden", exc)

    @app.exception_handler(QuotaExceeded)
    async def _quota(request: Request, exc: QuotaExceeded) -> Response:
        return _error(request, 429, "quota_exceeded", exc, "wait for the next day or phase")

    @app.exception_handler(NotFound)
    async def _missing(request: Request, exc: NotFound) -> Response:
        return _error(
            request, 404, "not_found", str(exc) or "not found", shown=Message("not found")
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        loc = [str(p) for p in first.get("loc", ())]
        told = _VALIDATION.get(str(first.get("type", "")), str(first.get("msg", "invalid")))
        shown = Message(
            "{part} {name} of the address: {problem}",
            part=Message("form field") if loc[:1] == ["body"] else Message("parameter"),
            name=repr(loc[-1] if loc else ""),
            problem=told,
        )
        text = f"{where}: {first.get('msg', 'invalid')}"
        return _error(request, 422, "invalid_request", text, shown=shown)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        # 413: the same code as the body limit's own refusals (palmares.web.limits)
        code = "too_large" if exc.status_code == 413 else "http_error"
        shown = getattr(exc, "message", None) or _HTTP.get(exc.status_code)
        return _error(request, exc.status_code, code, str(exc.detail), shown=shown)
