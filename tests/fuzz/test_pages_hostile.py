"""The HTML pages are not in ``/openapi.json``, so schemathesis does not reach them: every GET
page is called here with hostile path and query values (huge and negative integers, NUL bytes,
long strings, markup), as a visitor, a participant and an organiser, on a database with a
campaign and a scored submission — never a server error, never the markup unescaped."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tests.campaigns.conftest import EXAMPLE, join, open_campaign_file

from palmares.campaigns import add_user, create_campaign, run_one, set_password
from palmares.web import Settings, create_app
from palmares.web.pages import MODULES as PAGE_MODULES

PASSWORD = "correct horse battery"
HOSTILE = ["0", "-1", "2147483648", "99999999999999999999", "1.5", "x\x00y", "é" * 300,
           "<script>alert(1)</script>", "../../etc/passwd", ""]  # fmt: skip
MARKUP = "<script>alert(1)</script>"


def _login(web: TestClient, name: str) -> None:
    page = web.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    res = web.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf": csrf.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert res.status_code == 303


def test_every_page_survives_hostile_parameters(tmp_path: Path) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    db = app.state.db
    create_campaign(db, open_campaign_file(tmp_path))
    token = join(db, "alice", "lab-a")
    set_password(db, "alice", PASSWORD)
    add_user(db, "olga", "organiser")
    set_password(db, "olga", PASSWORD)
    first = TestClient(app).post(
        "/api/campaigns/1/tasks/avis-fr/submissions",
        files={"file": ("p.jsonl", (EXAMPLE / "baseline.jsonl").read_bytes())},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert first.status_code == 201, first.text
    while run_one(db, app.state.artifacts) is not None:
        pass
    good = {"campaign_id": "1", "task_id": "avis-fr", "challenge_id": "defi-fr",
            "submission_id": first.json()["id"], "phase_id": "1"}  # fmt: skip
    pages = [
        r
        for module in PAGE_MODULES
        for r in module.router.routes
        if isinstance(r, APIRoute) and "GET" in r.methods
    ]
    assert len(pages) >= 12
    calls = 0
    for who in ("visitor", "alice", "olga"):
        web = TestClient(app, raise_server_exceptions=False)
        if who != "visitor":
            _login(web, who)
        for route in pages:
            names = [p.name for p in route.dependant.path_params]
            queries = [q.name for q in route.dependant.query_params]
            for name, value in itertools.product(names + queries, HOSTILE):
                path = route.path
                for other in names:
                    shown = quote(value, safe="") if other == name else good[other]
                    path = path.replace("{" + other + "}", shown)
                params = {name: value} if name in queries else {}
                res = web.get(path, params=params)
                calls += 1
                assert res.status_code < 500, (who, path, params, res.text[-500:])
                assert MARKUP not in res.text, (who, path, params)
    print(f"{calls} hostile page requests, no server error")
    assert calls > 500


@pytest.mark.parametrize("value", ["99999999999999999999", "-3"])
def test_a_page_number_out_of_range_is_a_clear_422(tmp_path: Path, value: str) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    res = TestClient(app).get("/campaigns/" + value)
    assert res.status_code == 422 and "campaign_id" in res.text
