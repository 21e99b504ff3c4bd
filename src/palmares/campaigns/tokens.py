"""API tokens and browser sessions, revocable: a user lists, issues and revokes their own;
an administrator revokes all of a user's (a leaked token, a person leaving a team).

A token is a row of ``tokens`` holding the SHA-256 of its text, never the text: revoking
deletes the row, so the very next request with that text is refused. Every change is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.audit import record
from palmares.campaigns.service import _digest
from palmares.core import InputError, Message
from palmares.store import Token, User


class UnknownToken(InputError):
    """No such token among the caller's (not told apart from someone else's)."""


@dataclass(frozen=True)
class TokenInfo:
    """What a user may see of one of their tokens: never its text, nor its hash."""

    id: int
    kind: str  # "api" or "session"
    created_at: datetime
    expires_at: datetime | None


def list_tokens(session: Session, user: User) -> list[TokenInfo]:
    rows = session.scalars(select(Token).where(Token.user_id == user.id).order_by(Token.id))
    return [TokenInfo(t.id, t.kind, t.created_at, t.expires_at) for t in rows]


def issue_token(db: sessionmaker[Session], user: User, now: datetime | None = None) -> str:
    """A new API token for ``user`` (shown this once); the others stay valid."""
    token = "plm_" + secrets.token_urlsafe(32)
    now = now or datetime.now(UTC)
    with db.begin() as session:
        session.add(Token(user_id=user.id, digest=_digest(token), created_at=now))
        record(session, user.name, "token.issue", {"user": user.name}, now)
    return token


def revoke_token(db: sessionmaker[Session], user: User, token_id: int) -> None:
    """Revoke one of ``user``'s own tokens or sessions (the one in use included)."""
    now = datetime.now(UTC)
    with db.begin() as session:
        gone = session.execute(
            delete(Token).where(Token.id == token_id, Token.user_id == user.id)
        ).rowcount  # type: ignore[attr-defined]
        if not gone:
            raise UnknownToken(
                Message("no token {token} among yours", token=token_id), field="token"
            )
        record(session, user.name, "token.revoke", {"user": user.name, "token": token_id}, now)


def revoke_all(db: sessionmaker[Session], name: str, actor: str = "cli") -> int:
    """Revoke every API token and browser session of user ``name``; how many there were."""
    now = datetime.now(UTC)
    with db.begin() as session:
        user_id = session.scalar(select(User.id).where(User.name == name))
        if user_id is None:
            raise InputError(Message("no user {name}", name=repr(name)), field="name")
        gone = session.execute(delete(Token).where(Token.user_id == user_id))
        count = gone.rowcount  # type: ignore[attr-defined]
        record(session, actor, "token.revoke_all", {"user": name, "count": count}, now)
    return int(count)
