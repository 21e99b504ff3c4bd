"""Login rate limiting: failed logins are rows of ``login_failures``, by account name and by
client address; past a limit within a sliding window, the next attempts are refused before
any password is checked, so guessing costs the attacker time and the server no argon2 work.

Kept in the database, not in a process's memory, so the limit holds across server workers and
restarts. A success clears the name's failures (a user who mistyped is not locked out later);
old rows are pruned as new ones are written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from palmares.campaigns.service import Forbidden
from palmares.store import LoginFailure

WINDOW = timedelta(minutes=15)
#: failures for one account name within the window (a targeted guess)
PER_NAME = 5
#: failures from one client address within the window (spraying many names)
PER_ADDRESS = 30


class TooManyAttempts(Forbidden):
    """Too many failed logins: wait. Says when, never whether the name exists."""

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after_s = max(1, int(retry_after.total_seconds()) + 1)
        minutes = max(1, round(self.retry_after_s / 60))
        super().__init__(f"too many failed logins: try again in {minutes} min")


def check(db: sessionmaker[Session], name: str, address: str, now: datetime) -> None:
    """Raise :class:`TooManyAttempts` when ``name`` or ``address`` is over its limit."""
    since = now - WINDOW
    with db() as session:
        for column, value, limit in (
            (LoginFailure.name, name[:100], PER_NAME),
            (LoginFailure.address, address[:64], PER_ADDRESS),
        ):
            count, oldest_counted = _recent(session, column, value, since, limit)
            if count >= limit and oldest_counted is not None:
                raise TooManyAttempts(oldest_counted + WINDOW - now)


def _recent(
    session: Session, column: InstrumentedAttribute[str], value: str, since: datetime, limit: int
) -> tuple[int, datetime | None]:
    """How many failures within the window, and when the one that must expire before the next
    attempt is allowed happened (the ``limit``-th most recent)."""
    where = (column == value, LoginFailure.at > since)
    count = session.scalar(select(func.count()).select_from(LoginFailure).where(*where)) or 0
    if count < limit:
        return count, None
    at = session.scalar(
        select(LoginFailure.at).where(*where).order_by(LoginFailure.at.desc()).offset(limit - 1)
    )
    return count, at


def failed(db: sessionmaker[Session], name: str, address: str, now: datetime) -> None:
    with db.begin() as session:
        session.add(LoginFailure(name=name[:100], address=address[:64], at=now))
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))


def succeeded(db: sessionmaker[Session], name: str) -> None:
    """Forget the name's failures (the address's stay: one good account does not unlock a
    sprayer)."""
    with db.begin() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.name == name[:100]))
