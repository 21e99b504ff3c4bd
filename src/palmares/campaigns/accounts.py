"""Accounts for the web pages: passwords (argon2id), sign-up, browser sessions.

A session is a row of ``tokens`` with ``kind="session"``, an expiry and a CSRF token: the
cookie holds its text, the database only its SHA-256, so the services that take a token work
the same for a page as for the API. Logging out deletes the row, so a stolen cookie dies too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import throttle
from palmares.campaigns.audit import record
from palmares.campaigns.invitations import admit
from palmares.campaigns.names import clean_name, clean_user_name, keyed, look_alike, unique_names
from palmares.campaigns.service import Forbidden, _digest, authenticate
from palmares.core import InputError, Message
from palmares.store import Team, Token, User

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 8


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _decoy() -> str:
    """A hash to verify against when the name is unknown, so both cases take the same time."""
    return _hasher().hash(secrets.token_urlsafe(16))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            Message("a password has at least {min} characters", min=MIN_PASSWORD), field="password"
        )


def set_password(db: sessionmaker[Session], name: str, password: str, actor: str = "cli") -> None:
    check_password(password)
    digest = _hasher().hash(password)
    now = datetime.now(UTC)
    with db.begin() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise InputError(f"no user {name!r}", field="name")
        user.password_hash = digest
        record(session, actor, "user.password", {"name": name}, now)


def sign_up(
    db: sessionmaker[Session],
    name: str,
    password: str,
    team: str,
    *,
    address: str = "unknown",
    per_hour: int = throttle.SIGNUPS_PER_HOUR,
    hours: float = 12.0,
    now: datetime | None = None,
    challenge: str | None = None,
    invitation: str | None = None,
) -> WebSession:
    """A participant's own account, with a new team of theirs, signed in at once: its session.
    Joining an existing team is done by an organiser (``palmares users add --team``): anyone
    could claim a team's name.

    The attempt is counted against ``address``'s sign-up throttle (``per_hour``) before any
    name is looked up, whatever comes of it (a taken name too); refused by the throttle, or
    while the address is over its login limit, nothing is written
    (:mod:`~palmares.campaigns.throttle`).

    Signing up through ``challenge`` (or the plain page, ``None``) follows its sign-up mode
    (:func:`~palmares.campaigns.invitations.admit`): closed refuses, invitation takes a fresh
    ``invitation`` code and uses it in the same transaction (so guessing codes is throttled
    like the rest)."""
    name, team = clean_user_name(name), clean_name(team, "team")
    check_password(password)
    now = now or datetime.now(UTC)
    throttle.reserve_signup(db, address, per_hour, now)
    digest = _hasher().hash(password)
    with unique_names(), db.begin() as session:
        if look_alike(session, User, name) is not None:
            raise InputError(
                Message("the name {name} is taken (or one that looks like it)", name=repr(name)),
                field="name",
            )
        existing = look_alike(session, Team, team)
        if existing is not None:
            raise InputError(
                Message(
                    "a team named {existing} exists (or looks like {team}): ask an organiser "
                    "to add you to it",
                    existing=repr(existing),
                    team=repr(team),
                ),
                field="team",
            )
        row = Team(**keyed(team))
        session.add(row)
        session.flush()
        user = User(**keyed(name), role="participant", team_id=row.id,
                    created_at=now, password_hash=digest)  # fmt: skip
        session.add(user)
        session.flush()
        admit(session, challenge, invitation, user.id, now)  # refused: nothing is kept
        record(session, name, "user.signup", {"name": name, "team": team}, now)
        return _new_session(session, user.id, hours, now)


@dataclass(frozen=True)
class WebSession:
    token: str  # the cookie's value
    csrf: str  # what every form of this session echoes
    expires_at: datetime


def log_in(
    db: sessionmaker[Session],
    name: str,
    password: str,
    hours: float = 12.0,
    *,
    address: str = "unknown",
    now: datetime | None = None,
) -> WebSession:
    """A new session for ``name``; the same error whether the name or the password is wrong.
    The attempt is first counted as a failure of ``name`` from the client ``address``, in the
    transaction that checks the limits of :mod:`~palmares.campaigns.throttle` (past them it is
    refused before the password is checked); a right password then takes it back."""
    from argon2.exceptions import VerificationError

    now = now or datetime.now(UTC)
    throttle.reserve_login(db, name, address, now)
    with db() as session:
        user = session.scalar(select(User).where(User.name == name))
        stored = None if user is None else user.password_hash
    try:
        _hasher().verify(stored or _decoy(), password)
        ok = stored is not None
    except VerificationError:
        ok = False
    if not ok or user is None:
        raise Forbidden(Message("wrong name or password"))  # the reservation stays, as the failure
    throttle.login_succeeded(db, name, address)
    with db.begin() as session:
        made = _new_session(session, user.id, hours, now)
        record(session, name, "user.login", {"name": name}, now)
    return made


def _new_session(session: Session, user_id: int, hours: float, now: datetime) -> WebSession:
    made = WebSession(
        "pls_" + secrets.token_urlsafe(32), secrets.token_urlsafe(32), now + timedelta(hours=hours)
    )
    session.add(
        Token(user_id=user_id, digest=_digest(made.token), created_at=now, kind="session",
              expires_at=made.expires_at, csrf=made.csrf)
    )  # fmt: skip
    return made


def session_of(session: Session, token: str | None) -> tuple[User, str] | None:
    """The user and CSRF token of a live browser session, or None."""
    if not token:
        return None
    try:
        user = authenticate(session, token)
    except Forbidden:
        return None
    csrf = session.scalar(
        select(Token.csrf).where(Token.digest == _digest(token), Token.kind == "session")
    )
    return None if csrf is None else (user, csrf)


def log_out(db: sessionmaker[Session], token: str) -> None:
    with db.begin() as session:
        session.execute(
            delete(Token).where(Token.digest == _digest(token), Token.kind == "session")
        )
