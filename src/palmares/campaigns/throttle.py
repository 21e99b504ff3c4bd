"""Rate limits on logins and sign-ups, kept in the database (they hold across server processes
and restarts) and counted so that concurrency cannot beat them.

Reserve, then act. Checking a count and recording the attempt later (check-then-act) lets 25
concurrent requests all read "0 failures" and all get their password checked. Instead, the
transaction that counts also inserts the attempt's row and commits; only then is the password
verified (or the account created). A login that turns out right deletes its reservation; a
wrong one leaves it as the failure it is. The counting transactions are serialised: on SQLite
every transaction starts with ``BEGIN IMMEDIATE`` (``store.db``), one writer at a time; on
PostgreSQL, whose READ COMMITTED transactions do not see each other's uncommitted inserts, each
takes ``pg_advisory_xact_lock`` on keys derived from the name and from the address (always in
the same order, so two of them never wait on each other), held until it commits. So of N
simultaneous wrong guesses at one name, at most the limit are ever checked; the rest get 429.

Login policy (failed logins within a sliding window of 15 minutes):

- 5 for one name from one client address (a targeted guess): that name is refused at that
  address; the same name from another address is not;
- 20 for one name across all addresses (distributed guessing): that name is refused
  everywhere (the price is that its owner waits too; an organiser can still hand out a token);
- 30 from one address, whatever the names (spraying): that address's new attempts are refused;
  an account presenting its right password from another address is not locked out.

Refusals happen before any password is checked (no argon2 work for the server), say when to
come back (``Retry-After``) and never whether the name exists: an unknown name is counted the
same way. A right password forgets that name's failures at that address (someone who mistyped
is not locked out later); failures elsewhere stay, as do the address's failures for other
names (one good account does not unlock a sprayer).

Sign-up policy: at most ``per_hour`` sign-up attempts per client address per hour (setting
``signup_per_hour``), every attempt that reaches the names counted, including those refused
because a name is taken, so sign-up tells which names exist only as fast as that. An address
over its login limit cannot sign up either. A refused attempt writes nothing.

The client address is the one :func:`palmares.web.deps.client_address` computes (behind a
trusted proxy, the visitor's). Old rows are pruned as new ones are written.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from palmares.campaigns.service import Forbidden
from palmares.core import Message
from palmares.store import LoginFailure, SignUp

WINDOW = timedelta(minutes=15)
#: failures for one account name from one client address within the window (a targeted guess)
PER_NAME_AT_ADDRESS = 5
#: failures for one account name from all addresses within the window (distributed guessing)
PER_NAME = 20
#: failures from one client address within the window, whatever the names (spraying)
PER_ADDRESS = 30

SIGNUP_WINDOW = timedelta(hours=1)
#: sign-up attempts per client address within the hour (the default of ``signup_per_hour``)
SIGNUPS_PER_HOUR = 3

_PRUNE_BATCH = 500


class Throttled(Forbidden):
    """Refused by a rate limit: says when to come back (``retry_after_s``)."""

    def __init__(self, what: str | Message, retry_after: timedelta) -> None:
        self.retry_after_s = max(1, int(retry_after.total_seconds()) + 1)
        minutes = max(1, round(self.retry_after_s / 60))
        super().__init__(Message("{what}: try again in {minutes} min", what=what, minutes=minutes))


class TooManyAttempts(Throttled):
    """Too many failed logins: wait. Says when, never whether the name exists."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(Message("too many failed logins"), retry_after)


class TooManySignUps(Throttled):
    """Too many sign-ups from this address: wait."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(Message("too many sign-ups from this address"), retry_after)


def reserve_login(db: sessionmaker[Session], name: str, address: str, now: datetime) -> int:
    """Count one failed login of ``name`` from ``address`` before its password is checked: the
    id of the ``login_failures`` row (give it to :func:`login_succeeded` if the password is
    right), or :class:`TooManyAttempts` with nothing written when a limit is reached."""
    name, address = name[:100], address[:64]
    since = now - WINDOW
    with db.begin() as session:
        _lock(session, ("login-name", name), ("login-address", address))
        waits = [
            _wait(session, LoginFailure, since, WINDOW, now, limit, where)
            for limit, where in (
                (PER_NAME_AT_ADDRESS, (LoginFailure.name == name, LoginFailure.address == address)),
                (PER_NAME, (LoginFailure.name == name,)),
                (PER_ADDRESS, (LoginFailure.address == address,)),
            )
        ]
        refused = [wait for wait in waits if wait is not None]
        if refused:
            raise TooManyAttempts(max(refused))
        row = LoginFailure(name=name, address=address, at=now)
        session.add(row)
        session.flush()
        _prune(session, LoginFailure, LoginFailure.at, since)
        return row.id


def login_succeeded(db: sessionmaker[Session], name: str, address: str) -> None:
    """The password was right: forget the failures of ``name`` at ``address``, this attempt's
    reservation included (failures from other addresses, and the address's for other names,
    stay)."""
    name, address = name[:100], address[:64]
    with db.begin() as session:
        _lock(session, ("login-name", name))
        session.execute(
            delete(LoginFailure).where(LoginFailure.name == name, LoginFailure.address == address)
        )


def address_locked_out(session: Session, address: str, now: datetime) -> timedelta | None:
    """How long ``address`` is still refused logins, or None."""
    where = (LoginFailure.address == address[:64],)
    return _wait(session, LoginFailure, now - WINDOW, WINDOW, now, PER_ADDRESS, where)


def reserve_signup(db: sessionmaker[Session], address: str, per_hour: int, now: datetime) -> None:
    """Count one sign-up attempt from ``address`` before any name is looked up, committed
    whatever comes of it; or raise (:class:`TooManySignUps`, or :class:`TooManyAttempts` while
    the address is over its login limit) with nothing written."""
    address = address[:64]
    since = now - SIGNUP_WINDOW
    with db.begin() as session:
        _lock(session, ("signup-address", address))
        login_wait = address_locked_out(session, address, now)
        if login_wait is not None:
            raise TooManyAttempts(login_wait)
        wait = _wait(
            session, SignUp, since, SIGNUP_WINDOW, now, per_hour, (SignUp.address == address,)
        )
        if wait is not None:
            raise TooManySignUps(wait)
        session.add(SignUp(address=address, at=now))
        _prune(session, SignUp, SignUp.at, since)


def _lock(session: Session, *keys: tuple[str, str]) -> None:
    """On PostgreSQL, take the transaction-scoped advisory locks of ``keys`` in a fixed order
    (SQLite needs none: its transactions already hold the database's write lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({_key(kind, value) for kind, value in keys}):
        session.execute(select(func.pg_advisory_xact_lock(key)))


def _key(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"palmares.throttle\0{kind}\0{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _wait(
    session: Session,
    table: type[LoginFailure] | type[SignUp],
    since: datetime,
    window: timedelta,
    now: datetime,
    limit: int,
    where: tuple[ColumnElement[bool], ...],
) -> timedelta | None:
    """None while fewer than ``limit`` rows matching ``where`` are within the window; else how
    long until the one that must expire first (the ``limit``-th most recent) does."""
    at: InstrumentedAttribute[datetime] = table.at
    within = (*where, at > since)
    count = session.scalar(select(func.count()).select_from(table).where(*within)) or 0
    if count < limit:
        return None
    oldest_counted = session.scalar(
        select(at).where(*within).order_by(at.desc()).offset(max(limit, 1) - 1).limit(1)
    )
    return (oldest_counted or now) + window - now


def _prune(
    session: Session,
    table: type[LoginFailure] | type[SignUp],
    at: InstrumentedAttribute[datetime],
    before: datetime,
) -> None:
    """Delete rows older than the window, a batch at a time, skipping rows another transaction
    is deleting (on PostgreSQL two prunes never wait on, or deadlock with, each other)."""
    old = select(table.id).where(at <= before).limit(_PRUNE_BATCH)
    old = old.with_for_update(skip_locked=True)
    session.execute(delete(table).where(table.id.in_(old.scalar_subquery())))
