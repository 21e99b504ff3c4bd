"""Shared dependencies of the routers: the settings, the database, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import Artifacts, authenticate
from palmares.store import User
from palmares.web.settings import Settings


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def database(request: Request) -> sessionmaker[Session]:
    found: sessionmaker[Session] = request.app.state.db
    return found


def artifacts(request: Request) -> Artifacts:
    found: Artifacts = request.app.state.artifacts
    return found


def session(db: Annotated[sessionmaker[Session], Depends(database)]) -> Iterator[Session]:
    """A session for one route's reads. Routes that call services (which open their own
    transactions) must not hold one: on SQLite every transaction takes the write lock."""
    with db() as s:
        yield s


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_user(request: Request, db: Annotated[sessionmaker[Session], Depends(database)]) -> User:
    """The caller, from its Bearer token, read in a transaction of its own (closed at once)."""
    with db() as s:
        return authenticate(s, bearer_token(request))


def optional_user(
    request: Request, db: Annotated[sessionmaker[Session], Depends(database)]
) -> User | None:
    token = bearer_token(request)
    if not token:
        return None
    with db() as s:
        return authenticate(s, token)


DB = Annotated[sessionmaker[Session], Depends(database)]
SessionDep = Annotated[Session, Depends(session)]
CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
ArtifactsDep = Annotated[Artifacts, Depends(artifacts)]
Token = Annotated[str | None, Depends(bearer_token)]
SettingsDep = Annotated[Settings, Depends(settings)]
