"""Every error the API returns is JSON ``{code, message, hint}`` with a 4xx status.

Messages come from the same exceptions the CLI prints (file, line, field), and never quote a
hidden reference: validation errors about a submission name ids, lines and fields only.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from palmares.campaigns import Forbidden, QuotaExceeded
from palmares.core import InputError


class NotFound(Exception):
    """Absent, or not visible to the caller (the two are not told apart)."""


def _error(status: int, code: str, message: str, hint: str = "") -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "hint": hint}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        return _error(400, "invalid_input", str(exc), "fix the file or field named, then retry")

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        status = 401 if "token" in str(exc) else 403
        return _error(status, "forbidden", str(exc))

    @app.exception_handler(QuotaExceeded)
    async def _quota(_: Request, exc: QuotaExceeded) -> JSONResponse:
        return _error(429, "quota_exceeded", str(exc), "wait for the next day or phase")

    @app.exception_handler(NotFound)
    async def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return _error(404, "not_found", str(exc) or "not found")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", str(exc.detail))
