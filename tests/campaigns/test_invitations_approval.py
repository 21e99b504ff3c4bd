"""Sybils (#13): sign-up modes per challenge with one-use invitation codes (admitted once, also
under 20 concurrent redemptions), the same gate at registration, and registrations an organiser
approves before the team may submit — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import EXAMPLE, db, db_url, open_campaign_file  # noqa: F401

from palmares.campaigns import (
    Artifacts,
    Forbidden,
    RegistrationStatus,
    SignupMode,
    add_user,
    admit,
    create_campaign,
    create_invitations,
    decide_registration,
    register,
    registrations,
    server_signup_mode,
    set_signup_mode,
    signup_mode,
    submit_predictions,
    verify,
)
from palmares.core import InputError
from palmares.store import AuditEvent, Challenge, Invitation, QuotaUsage, Submission, User

PREDICTIONS = EXAMPLE / "baseline.jsonl"


def _campaign(
    folder: Path, *, signup: str | None = None, approval: bool = False, slug: str = "c1",
    challenge: str = "defi-fr",
) -> Path:  # fmt: skip
    """The conftest campaign (dev phase open now) with the challenge's sign-up mode and the
    campaign's approval step as asked."""
    path = open_campaign_file(folder)
    body = path.read_text("utf-8")
    mode = "" if signup is None else f", signup: {signup}"
    body = body.replace('{id: defi-fr, title: "Défi IA en français"}',
                        f'{{id: {challenge}, title: "Défi {challenge}"{mode}}}')  # fmt: skip
    body = body.replace("{id: 2027-printemps,", f"{{id: {slug}, approval: {str(approval).lower()},")
    target = folder / f"{challenge}-{slug}.yaml"
    target.write_text(body, "utf-8")
    return target


def _sign_up(
    database: sessionmaker[Session], name: str, challenge: str | None, code: str | None
) -> int:
    """A sign-up transaction as the lead wires it: the user flushed, then :func:`admit`."""
    now = datetime.now(UTC)
    with database.begin() as session:
        user = User(name=name, role="participant", created_at=now)
        session.add(user)
        session.flush()
        admit(session, challenge, code, user.id, now)
        return user.id


def _count(database: sessionmaker[Session], model: type) -> int:
    with database() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_invitation_mode_admits_a_fresh_code_once(
    db: sessionmaker[Session],  # noqa: F811
    tmp_path: Path,
) -> None:
    create_campaign(db, _campaign(tmp_path, signup="invitation"))
    create_campaign(db, _campaign(tmp_path, signup="invitation", challenge="autre"))
    with db() as s:
        assert signup_mode(s, "defi-fr") is SignupMode.INVITATION
    mine = create_invitations(db, "defi-fr", 2, actor="olga")
    theirs = create_invitations(db, "autre", 1, actor="olga")
    assert len(set(mine)) == 2 and all(c.startswith("inv_") for c in mine)
    with db() as s:  # only digests are stored
        digests = set(s.scalars(select(Invitation.digest)))
    assert not digests & set(mine) and len(digests) == 3
    for code in (None, "", "inv_wrong", theirs[0]):
        with pytest.raises(InputError) as refused:
            _sign_up(db, "mallory", "defi-fr", code)
        assert refused.value.field == "invitation"
    assert _sign_up(db, "alice", "defi-fr", mine[0]) > 0
    with pytest.raises(InputError) as again:  # used
        _sign_up(db, "bob", "defi-fr", mine[0])
    assert again.value.field == "invitation"
    with db() as s:
        names = set(s.scalars(select(User.name)))
        used = s.scalar(select(Invitation).where(Invitation.used_by.is_not(None)))
        events = s.scalars(select(AuditEvent.action)).all()
    assert names == {"alice"}  # every refusal rolled its account back
    assert used is not None and used.challenge_id == "defi-fr" and used.used_at is not None
    assert events.count("invitation.create") == 2 and events.count("invitation.use") == 1
    # the plain sign-up page: every challenge takes invitations, so a code of any admits
    with db() as s:
        assert server_signup_mode(s) is SignupMode.INVITATION
    with pytest.raises(InputError):
        _sign_up(db, "carol", None, None)
    _sign_up(db, "carol", None, theirs[0])
    set_signup_mode(db, "defi-fr", "closed", actor="olga")
    with pytest.raises(Forbidden):
        _sign_up(db, "dave", "defi-fr", mine[1])
    set_signup_mode(db, "autre", "closed", actor="olga")
    with db() as s:
        assert server_signup_mode(s) is SignupMode.CLOSED
    with pytest.raises(Forbidden):
        _sign_up(db, "dave", None, mine[1])
    set_signup_mode(db, "autre", "open", actor="olga")
    _sign_up(db, "dave", None, None)  # one challenge is open: so is the plain page
    _sign_up(db, "erin", "autre", "inv_anything")  # open: a code is neither needed nor used
    with db() as s:
        assert s.scalar(select(func.count()).where(Invitation.used_by.is_(None))) == 1
    assert verify(db).ok


def test_twenty_concurrent_redemptions_of_one_code_have_one_winner(
    db: sessionmaker[Session],  # noqa: F811
    tmp_path: Path,
) -> None:
    create_campaign(db, _campaign(tmp_path, signup="invitation"))
    (code,) = create_invitations(db, "defi-fr", 1, actor="olga")
    start = threading.Barrier(20)
    won: list[int] = []
    lost: list[BaseException] = []

    def attempt(i: int) -> None:
        start.wait()
        try:
            won.append(_sign_up(db, f"user{i}", "defi-fr", code))
        except BaseException as exc:
            lost.append(exc)

    began = time.perf_counter()
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    assert len(won) == 1, (won, lost)
    assert len(lost) == 19 and all(isinstance(e, InputError) for e in lost), lost
    with db() as s:
        row = s.scalar(select(Invitation))
        assert row is not None and row.used_by == won[0]
        assert s.scalar(select(func.count()).select_from(User)) == 1
    print(f"20 concurrent redemptions: 1 winner, 19 refused, {elapsed:.2f} s")


def test_a_later_campaign_changes_the_mode_audited(
    db: sessionmaker[Session],  # noqa: F811
    tmp_path: Path,
) -> None:
    create_campaign(db, _campaign(tmp_path, slug="c1"))
    with db() as s:
        assert signup_mode(s, "defi-fr") is SignupMode.OPEN
    create_campaign(db, _campaign(tmp_path, slug="c2", signup="invitation"), actor="olga")
    create_campaign(db, _campaign(tmp_path, slug="c3"))  # no key: unchanged
    with db() as s:
        challenge = s.get(Challenge, "defi-fr")
        assert challenge is not None and challenge.signup == "invitation"
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "challenge.signup")).all()
    assert len(events) == 1 and events[0].actor == "olga"
    assert events[0].payload["before"] == "open" and events[0].payload["after"] == "invitation"
    assert verify(db).ok


def test_registration_needs_a_code_in_invitation_mode(
    db: sessionmaker[Session],  # noqa: F811
    tmp_path: Path,
) -> None:
    create_campaign(db, _campaign(tmp_path, slug="c1", signup="invitation"))
    create_campaign(db, _campaign(tmp_path, slug="c2"))
    codes = create_invitations(db, "defi-fr", 1, actor="olga")
    token = add_user(db, "alice", "participant", team="lab-a")  # signed up elsewhere
    with pytest.raises(InputError) as refused:
        register(db, token, 1, accept_rules=True)
    assert refused.value.field == "invitation"
    assert register(db, token, 1, True, invitation=codes[0]) is RegistrationStatus.APPROVED
    # admitted to the challenge now: its other campaigns need no second code
    assert register(db, token, 2, True) is RegistrationStatus.APPROVED
    other = add_user(db, "bob", "participant", team="lab-b")
    with pytest.raises(InputError):  # the code is used
        register(db, other, 2, True, invitation=codes[0])
    set_signup_mode(db, "defi-fr", "closed", actor="olga")
    with pytest.raises(Forbidden):
        register(db, other, 2, True)


def test_approval_pending_refused_approved(
    db: sessionmaker[Session],  # noqa: F811
    tmp_path: Path,
) -> None:
    create_campaign(db, _campaign(tmp_path, approval=True))
    artifacts = Artifacts(tmp_path / "artifacts")
    alice = add_user(db, "alice", "participant", team="lab-a")
    bob = add_user(db, "bob", "participant", team="lab-b")
    assert register(db, alice, 1, True) is RegistrationStatus.PENDING
    assert register(db, bob, 1, True) is RegistrationStatus.PENDING
    with db() as s:
        listed = registrations(s, 1)
    assert [(r["team"], r["members"], r["status"]) for r in listed] == [
        ("lab-a", ["alice"], "pending"),
        ("lab-b", ["bob"], "pending"),
    ]
    with pytest.raises(Forbidden, match="waits for an organiser's approval"):
        submit_predictions(db, artifacts, alice, 1, "avis-fr", PREDICTIONS)
    assert _count(db, Submission) == 0 and _count(db, QuotaUsage) == 0  # nothing written
    stored = tmp_path / "artifacts" / "objects"
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))
    assert decide_registration(db, 1, "lab-a", True, actor="olga") is RegistrationStatus.APPROVED
    assert decide_registration(db, 1, "lab-b", False, actor="olga") is RegistrationStatus.REFUSED
    assert submit_predictions(db, artifacts, alice, 1, "avis-fr", PREDICTIONS)
    with pytest.raises(Forbidden, match="refused"):
        submit_predictions(db, artifacts, bob, 1, "avis-fr", PREDICTIONS)
    assert register(db, bob, 1, True) is RegistrationStatus.REFUSED  # stays refused
    with pytest.raises(Forbidden, match="refused"):
        submit_predictions(db, artifacts, bob, 1, "avis-fr", PREDICTIONS)
    with pytest.raises(InputError):
        decide_registration(db, 1, "lab-z", True, actor="olga")
    assert _count(db, Submission) == 1
    with db() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("registration."))
        ).all()
        registered = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "campaign.register")
        ).all()
    assert [(e.action, e.actor, e.payload["team"], e.payload["before"]) for e in events] == [
        ("registration.approve", "olga", "lab-a", "pending"),
        ("registration.refuse", "olga", "lab-b", "pending"),
    ]
    assert {e.payload["status"] for e in registered} == {"pending"}
    assert verify(db).ok


def test_cli_invite_approve_refuse(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    from palmares.cli import _invitations, cli  # noqa: F401  (registers the commands)
    from palmares.store import migrate, open_engine, sessions

    engine = open_engine(db_url)
    migrate(engine)
    database = sessions(engine)
    create_campaign(database, _campaign(tmp_path, signup="invitation", approval=True))
    runner = CliRunner()
    made = runner.invoke(cli, ["invite", "--challenge", "defi-fr", "--count", "3", "--db", db_url])
    assert made.exit_code == 0, made.output
    codes = made.output.split()
    assert len(codes) == 3 and all(c.startswith("inv_") for c in codes)
    none = runner.invoke(cli, ["invite", "--challenge", "nope", "--db", db_url])
    assert none.exit_code == 2 and "no challenge" in none.output
    token = add_user(database, "alice", "participant", team="lab-a")
    assert register(database, token, 1, True, invitation=codes[1]) is RegistrationStatus.PENDING
    listed = runner.invoke(cli, ["campaign", "registrations", "--campaign", "1", "--db", db_url])
    assert listed.exit_code == 0 and listed.output.startswith("pending"), listed.output
    assert "lab-a" in listed.output
    args = ["campaign", "approve", "--campaign", "1", "--team", "lab-a", "--db", db_url]
    approved = runner.invoke(cli, args)
    assert approved.exit_code == 0 and "approved" in approved.output, approved.output
    refused = runner.invoke(cli, [*args, "--refuse"])
    assert refused.exit_code == 0 and "refused" in refused.output
    unknown = runner.invoke(cli, [*args[:4], "--team", "lab-z", "--db", db_url])
    assert unknown.exit_code == 2 and "lab-z" in unknown.output
    with database() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "cli")).all()
    assert actions.count("invitation.create") == 1
    assert "registration.approve" in actions and "registration.refuse" in actions
    engine.dispose()
