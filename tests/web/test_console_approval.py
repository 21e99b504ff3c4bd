"""Sybils (#13) in the browser: an organiser approves and refuses registrations in the console,
makes invitation codes (shown once) and sets a challenge's sign-up mode; a participant sees
"pending approval" and, in invitation mode, gives a code when registering."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.campaigns.conftest import db_url  # noqa: F401  (fixture)
from tests.web.test_console import PASSWORD, _app, _signed_in, _staff, campaign_yaml

from palmares.campaigns import (
    add_user,
    create_campaign_from_text,
    registration_status,
    set_password,
    verify,
)
from palmares.store import AuditEvent, Challenge, Invitation


def _participant(app: object, name: str, team: str) -> tuple[TestClient, str]:
    database = app.state.db  # type: ignore[attr-defined]
    add_user(database, name, "participant", team=team)
    set_password(database, name, PASSWORD)
    return _signed_in(app, name)  # type: ignore[arg-type]


def test_console_approves_and_refuses(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    app = _app(db_url, tmp_path)
    database = app.state.db
    _staff(database, "olga", "organiser")
    _staff(database, "audrey", "auditor")
    create_campaign_from_text(
        database, campaign_yaml(extra=", approval: true"), app.state.settings.tasks_dir, "olga"
    )
    alice, alice_csrf = _participant(app, "alice", "lab-a")
    bob, bob_csrf = _participant(app, "bob", "lab-b")
    form = alice.get("/campaigns/1/register")
    assert "approuve chaque inscription" in form.text
    for client, csrf in ((alice, alice_csrf), (bob, bob_csrf)):
        done = client.post(
            "/campaigns/1/register",
            data={"accept_rules": "yes", "csrf": csrf},
            follow_redirects=False,
        )
        assert done.status_code == 303
    assert "registration-pending" in alice.get("/campaigns/1/register").text
    assert "registration-pending" in alice.get("/campaigns/1").text  # the campaign page too
    submit = alice.get("/campaigns/1/tasks/avis-fr/submit")
    assert "attente d&#39;approbation" in submit.text and 'name="kind"' not in submit.text
    refused = alice.post(
        "/campaigns/1/tasks/avis-fr/submit",
        data={"kind": "predictions", "csrf": alice_csrf},
        files={"file": ("p.jsonl", b'{"id": "x", "prediction": "positif"}\n')},
    )
    assert refused.status_code == 403

    olga, olga_csrf = _signed_in(app, "olga")
    page = olga.get("/console/campaigns/1")
    assert page.status_code == 200 and "registration-list" in page.text
    assert "lab-a" in page.text and "alice" in page.text and "en attente d’approbation" in page.text
    approve = olga.post(
        "/console/campaigns/1/registrations",
        data={"team": "lab-a", "decision": "approve", "csrf": olga_csrf},
        follow_redirects=False,
    )
    assert approve.status_code == 303 and approve.headers["location"].endswith("done=approved")
    refuse = olga.post(
        "/console/campaigns/1/registrations",
        data={"team": "lab-b", "decision": "refuse", "csrf": olga_csrf},
        follow_redirects=False,
    )
    assert refuse.status_code == 303 and refuse.headers["location"].endswith("done=refused")
    bad = olga.post(
        "/console/campaigns/1/registrations",
        data={"team": "lab-z", "decision": "approve", "csrf": olga_csrf},
    )
    assert bad.status_code == 400 and "lab-z" in bad.text
    audrey, audrey_csrf = _signed_in(app, "audrey")
    assert "lab-a" in audrey.get("/console/campaigns/1").text  # reads
    denied = audrey.post(
        "/console/campaigns/1/registrations",
        data={"team": "lab-b", "decision": "approve", "csrf": audrey_csrf},
    )
    assert denied.status_code == 403  # an auditor does not act
    with database() as s:
        assert registration_status(s, 1, 1) == "approved"
        assert registration_status(s, 1, 2) == "refused"
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "olga")).all()
    assert "registration.approve" in actions and "registration.refuse" in actions
    assert "registration-refused" in bob.get("/campaigns/1/register").text
    assert 'name="kind"' in alice.get("/campaigns/1/tasks/avis-fr/submit").text
    # the API says the status too
    api = TestClient(app)
    token = add_user(database, "carl", "participant", team="lab-c")
    made = api.post(
        "/api/campaigns/1/registration",
        json={"accept_rules": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201 and made.json()["status"] == "pending"
    got = api.get("/api/campaigns/1/registration", headers={"Authorization": f"Bearer {token}"})
    assert got.json() == {"campaign": 1, "registered": True, "status": "pending"}
    assert verify(database).ok


def test_console_invitations_and_signup_mode(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    app = _app(db_url, tmp_path)
    database = app.state.db
    _staff(database, "olga", "organiser")
    create_campaign_from_text(database, campaign_yaml(), app.state.settings.tasks_dir, "olga")
    olga, csrf = _signed_in(app, "olga")
    assert "/console/challenges/defi-fr/invitations" in olga.get("/console").text
    page = olga.get("/console/challenges/defi-fr/invitations")
    assert page.status_code == 200 and "tout le monde peut s&#39;inscrire" in page.text
    mode = olga.post(
        "/console/challenges/defi-fr/signup",
        data={"signup": "invitation", "csrf": csrf},
        follow_redirects=False,
    )
    assert mode.status_code == 303 and mode.headers["location"].endswith("done=signup")
    wrong = olga.post("/console/challenges/defi-fr/signup", data={"signup": "x", "csrf": csrf})
    assert wrong.status_code == 400
    made = olga.post("/console/challenges/defi-fr/invitations", data={"count": "3", "csrf": csrf})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    codes = re.findall(r"inv_[A-Za-z0-9_-]+", made.text)
    assert len(set(codes)) == 3
    again = olga.get("/console/challenges/defi-fr/invitations")
    assert not re.findall(r"inv_[A-Za-z0-9_-]+", again.text)  # shown once
    assert re.search(r"non utilisés</dt><dd>3<", again.text)
    for count in ("0", "abc", "100000"):
        refused = olga.post(
            "/console/challenges/defi-fr/invitations", data={"count": count, "csrf": csrf}
        )
        assert refused.status_code == 400, count
    missing = olga.post("/console/challenges/nope/invitations", data={"count": "1", "csrf": csrf})
    assert missing.status_code == 404
    assert olga.get("/console/challenges/nope/invitations").status_code == 404
    with database() as s:
        challenge = s.get(Challenge, "defi-fr")
        assert challenge is not None and challenge.signup == "invitation"
        assert len(s.scalars(select(Invitation)).all()) == 3

    # a participant made by an organiser registers with a code of the challenge
    alice, alice_csrf = _participant(app, "alice", "lab-a")
    form = alice.get("/campaigns/1/register")
    assert 'for="f-invitation"' in form.text
    no_code = alice.post("/campaigns/1/register", data={"accept_rules": "yes", "csrf": alice_csrf})
    assert no_code.status_code == 400 and "invitation" in no_code.text
    ok = alice.post(
        "/campaigns/1/register",
        data={"accept_rules": "yes", "invitation": codes[0], "csrf": alice_csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    counts = olga.get("/console/challenges/defi-fr/invitations").text
    assert re.search(r"utilisés</dt><dd>1<", counts)
    assert re.search(r"non utilisés</dt><dd>2<", counts)
    assert verify(database).ok
