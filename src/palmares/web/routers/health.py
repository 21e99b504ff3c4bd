"""``/healthz``: the process answers and the database is reachable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from palmares.web.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(s: SessionDep) -> dict[str, Any]:
    s.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}
