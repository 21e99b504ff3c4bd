"""Who may join a challenge: its sign-up mode (``open``, ``invitation``, ``closed``) and the
one-use invitation codes organisers hand out.

A code is shown once, when it is made; the database keeps its SHA-256 only. Redeeming it is one
conditional ``UPDATE … WHERE used_by IS NULL`` inside the caller's transaction: of any number of
concurrent redemptions of one code, exactly one wins (on SQLite, transactions are serialised by
``BEGIN IMMEDIATE``; on PostgreSQL, the losers wait on the row lock, then find it used).

Two gates use it:

- sign-up (:func:`admit`, called by the sign-up transaction once the new user is flushed): an
  invitation-mode challenge needs a fresh code of that challenge, a closed one admits nobody;
  without a challenge, the server-wide mode of :func:`server_signup_mode` applies;
- registration to a campaign (:func:`admitted` and :func:`redeem`, called by
  :func:`~palmares.campaigns.participation.register`): an account made elsewhere (another
  challenge's page, an organiser) still needs a code of this challenge, since accounts are
  server-wide. A team already registered to one of the challenge's campaigns stays admitted
  when the mode later changes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.audit import record
from palmares.campaigns.service import Forbidden
from palmares.campaigns.spec import SignupMode
from palmares.core import InputError, Message
from palmares.store import Campaign, Challenge, Invitation, Registration, User

#: the most codes one call makes
MAX_COUNT = 1000
CODE_PREFIX = "inv_"


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def create_invitations(
    db: sessionmaker[Session],
    challenge_id: str,
    count: int,
    actor: str,
    now: datetime | None = None,
) -> list[str]:
    """Make ``count`` one-use codes for ``challenge_id``; returns them, shown this once (only
    their SHA-256 is stored). One audit event names the challenge, the count and the rows."""
    if not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise InputError(
            Message("make 1 to {max} invitations at a time", max=MAX_COUNT), field="count"
        )
    now = now or datetime.now(UTC)
    codes = [CODE_PREFIX + secrets.token_urlsafe(18) for _ in range(count)]
    with db.begin() as session:
        if session.get(Challenge, challenge_id) is None:
            raise InputError(
                Message("no challenge {challenge}", challenge=repr(challenge_id)), field="challenge"
            )
        rows = [
            Invitation(challenge_id=challenge_id, digest=_digest(code), created_by=actor,
                       created_at=now)
            for code in codes
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        payload = {"challenge": challenge_id, "count": count, "ids": [r.id for r in rows]}
        record(session, actor, "invitation.create", payload, now)
    return codes


def signup_mode(session: Session, challenge_id: str) -> SignupMode:
    """The challenge's sign-up mode; :class:`InputError` if there is no such challenge."""
    mode = session.scalar(select(Challenge.signup).where(Challenge.id == challenge_id))
    if mode is None:
        raise InputError(
            Message("no challenge {challenge}", challenge=repr(challenge_id)), field="challenge"
        )
    return SignupMode(mode)


def server_signup_mode(session: Session) -> SignupMode:
    """The rule of the plain sign-up page (no challenge named): ``open`` while some challenge
    is open (or there is none yet: anyone could sign up through it anyway); else
    ``invitation`` while some challenge takes invitations (a code of any of them admits);
    else ``closed``."""
    modes = set(session.scalars(select(Challenge.signup).distinct()))
    if not modes or SignupMode.OPEN in modes:
        return SignupMode.OPEN
    return SignupMode.INVITATION if SignupMode.INVITATION in modes else SignupMode.CLOSED


def admit(
    session: Session,
    challenge_id: str | None,
    code: str | None,
    user_id: int,
    now: datetime,
) -> int | None:
    """The sign-up gate. Call it inside the sign-up transaction, after the new user's row is
    flushed (``user_id`` is its id), before the commit: a refusal raises and the transaction
    rolls back, so no account is made and no code is used.

    ``challenge_id`` is the challenge whose page the person signs up through; ``None`` means
    the plain sign-up page, under :func:`server_signup_mode` (a code of any challenge in
    invitation mode admits). Open: admits, returns ``None`` (a code given is not used).
    Invitation: marks the code used by ``user_id`` (audited, ``invitation.use``) and returns
    the invitation's id. Raises :class:`Forbidden` when sign-up is closed, and
    ``InputError(field="invitation")`` when the code is missing, wrong, already used or of
    another challenge (one message for the last three: it tells nothing about other codes)."""
    if challenge_id is None:
        mode = server_signup_mode(session)
        scope = list(
            session.scalars(select(Challenge.id).where(Challenge.signup == SignupMode.INVITATION))
        )
    else:
        mode = signup_mode(session, challenge_id)
        scope = [challenge_id]
    if mode is SignupMode.CLOSED:
        raise Forbidden(Message("sign-up is closed: ask an organiser"))
    if mode is SignupMode.OPEN:
        return None
    return redeem(session, scope, code, user_id, now)


def redeem(
    session: Session, challenge_ids: list[str], code: str | None, user_id: int, now: datetime
) -> int:
    """Mark the fresh invitation ``code`` of one of ``challenge_ids`` used by ``user_id``, in
    the caller's transaction (one conditional UPDATE: one winner); its id. ``InputError``
    otherwise."""
    if not code or not code.strip():
        raise InputError(
            Message("joining this challenge needs an invitation code from an organiser"),
            field="invitation",
        )
    digest = _digest(code)
    done = session.execute(
        update(Invitation)
        .where(
            Invitation.digest == digest,
            Invitation.challenge_id.in_(challenge_ids),
            Invitation.used_by.is_(None),
        )
        .values(used_by=user_id, used_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise InputError(
            Message(
                "this invitation code is not valid here: wrong, already used, or for another "
                "challenge"
            ),
            field="invitation",
        )
    row = session.scalar(select(Invitation).where(Invitation.digest == digest))
    assert row is not None
    actor = session.scalar(select(User.name).where(User.id == user_id)) or str(user_id)
    payload = {"challenge": row.challenge_id, "invitation": row.id, "user": user_id}
    record(session, actor, "invitation.use", payload, now)
    return row.id


def admitted(session: Session, challenge_id: str, team_id: int) -> bool:
    """Has the team joined the challenge already: a member redeemed one of its invitations,
    or the team registered to one of its campaigns (whatever the mode was then)?"""
    invited = session.scalar(
        select(Invitation.id)
        .join(User, User.id == Invitation.used_by)
        .where(Invitation.challenge_id == challenge_id, User.team_id == team_id)
        .limit(1)
    )
    if invited is not None:
        return True
    registered = session.scalar(
        select(Registration.id)
        .join(Campaign, Campaign.id == Registration.campaign_id)
        .where(Campaign.challenge_id == challenge_id, Registration.team_id == team_id)
        .limit(1)
    )
    return registered is not None


def set_signup_mode(
    db: sessionmaker[Session],
    challenge_id: str,
    mode: str,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Change a challenge's sign-up mode (audited with the mode before and after). Codes
    already made stay valid for when the mode is ``invitation``."""
    try:
        chosen = SignupMode(mode)
    except ValueError:
        modes = ", ".join(m.value for m in SignupMode)
        raise InputError(
            Message("the sign-up mode is one of {modes}", modes=modes), field="signup"
        ) from None
    now = now or datetime.now(UTC)
    with db.begin() as session:
        challenge = session.scalar(
            select(Challenge).where(Challenge.id == challenge_id).with_for_update()
        )
        if challenge is None:
            raise InputError(
                Message("no challenge {challenge}", challenge=repr(challenge_id)), field="challenge"
            )
        if challenge.signup == chosen:
            return
        change = {"challenge": challenge_id, "before": challenge.signup, "after": chosen.value}
        challenge.signup = chosen
        record(session, actor, "challenge.signup", change, now)


def invitation_counts(session: Session, challenge_id: str) -> dict[str, int]:
    """How many of the challenge's codes are used and unused."""
    rows = session.execute(
        select(Invitation.used_by.is_(None), func.count())
        .where(Invitation.challenge_id == challenge_id)
        .group_by(Invitation.used_by.is_(None))
    ).all()
    counts = {"used": 0, "unused": 0}
    for unused, n in rows:
        counts["unused" if unused else "used"] += int(n)
    return counts
