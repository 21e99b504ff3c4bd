"""Shared dependencies of the routers: the settings, the database, the caller."""

from __future__ import annotations

import ipaddress
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


def client_address(request: Request) -> str:
    """The address the rate limits count a request under: the direct peer's; when that peer is
    one of the ``trusted_proxies``, the last hop of ``X-Forwarded-For`` that is not one of them
    (the address the outermost trusted proxy saw). From any other peer the header is ignored, so
    a client cannot choose its address by sending one."""
    peer = request.client.host if request.client else "unknown"
    trusted = settings(request).trusted_networks()
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):  # each proxy appends the peer it saw: read from the right
        if not _within(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def _within(
    address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


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
ClientAddress = Annotated[str, Depends(client_address)]
