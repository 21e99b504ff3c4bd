"""The sign-up page under a challenge's sign-up mode (#13), as a browser posts it: invitation mode
asks for a one-use code (refused without one, or with a used one, nothing written), closed mode
shows no form and refuses the post."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.campaigns.conftest import db_url, open_campaign_file  # noqa: F401 (fixture)

from palmares.campaigns import create_campaign, create_invitations
from palmares.store import Team, User
from palmares.web import Settings, create_app

PASSWORD = "a long passphrase"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _web(db_url: str, tmp_path: Path, mode: str) -> TestClient:  # noqa: F811
    app = create_app(
        Settings(db=db_url, artifacts=str(tmp_path / "artifacts"), signup_per_hour=100)
    )
    path = open_campaign_file(tmp_path)
    body = path.read_text("utf-8").replace(
        'title: "Défi IA en français"}', f'title: "Défi IA en français", signup: {mode}}}'
    )
    path.write_text(body, "utf-8")
    create_campaign(app.state.db, path)
    return TestClient(app)


def _people(web: TestClient) -> tuple[int, int]:
    with web.app.state.db() as s:  # type: ignore[attr-defined]
        users = s.scalar(select(func.count()).select_from(User)) or 0
        teams = s.scalar(select(func.count()).select_from(Team)) or 0
    return users, teams


def _post(web: TestClient, where: str, name: str, code: str | None) -> tuple[int, str]:
    page = web.get(where)
    assert page.status_code == 200
    data = {"name": name, "team": f"team of {name}", "password": PASSWORD,
            "csrf": _csrf(page.text)}  # fmt: skip
    if "challenge=" in where:
        data["challenge"] = where.split("challenge=")[1]
    if code is not None:
        data["invitation"] = code
    res = web.post("/signup", data=data, follow_redirects=False)
    return res.status_code, res.text


@pytest.mark.parametrize("where", ["/signup?challenge=defi-fr", "/signup"])
def test_invitation_mode_asks_for_a_fresh_code(db_url: str, tmp_path: Path, where: str) -> None:  # noqa: F811
    web = _web(db_url, tmp_path, "invitation")
    assert 'name="invitation"' in web.get(where).text
    status, body = _post(web, where, "nadia", None)
    assert status == 400 and 'id="e-invitation"' in body
    status, _ = _post(web, where, "nadia", "inv_wrong")
    assert status == 400 and _people(web) == (0, 0)
    [code] = create_invitations(web.app.state.db, "defi-fr", 1, "olga", datetime.now(UTC))  # type: ignore[attr-defined]
    status, _ = _post(web, where, "nadia", code)
    assert status == 303 and _people(web) == (1, 1)  # signed in at once
    web.cookies.clear()
    status, body = _post(web, where, "omar", code)  # used
    assert status == 400 and _people(web) == (1, 1)


def test_open_mode_shows_no_code_field(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    web = _web(db_url, tmp_path, "open")
    assert 'name="invitation"' not in web.get("/signup?challenge=defi-fr").text
    assert _post(web, "/signup?challenge=defi-fr", "paula", None)[0] == 303


def test_closed_mode_refuses(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    web = _web(db_url, tmp_path, "closed")
    page = web.get("/signup?challenge=defi-fr")
    assert page.status_code == 200 and 'action="/signup"' not in page.text
    res = web.post(
        "/signup",
        data={
            "name": "quentin",
            "team": "q",
            "password": PASSWORD,
            "challenge": "defi-fr",
            "csrf": _csrf(web.get("/login").text),
        },
    )
    assert res.status_code == 403 and _people(web) == (0, 0)
    assert web.get("/signup?challenge=nope").status_code == 404
