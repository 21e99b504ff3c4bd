"""The demo challenge, built for real (Gemma 3 270M in-process, fresh response cache): two
campaigns, the closed one frozen, every system ranked with its interval, the web UI serving it
and the printed logins working."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from palmares.demo import PASSWORD, build_demo
from palmares.store import Snapshot
from palmares.testing import gemma_gguf
from palmares.web import Settings, create_app


def test_the_demo_builds_ranks_and_serves(tmp_path: Path) -> None:
    runs: list[str] = []

    def progress(label: str):  # type: ignore[no-untyped-def]
        runs.append(label)
        return lambda done, total: None

    demo = build_demo(
        tmp_path / "demo", model=gemma_gguf(), progress=progress, say=lambda _: None,
        cache=tmp_path / "cache.sqlite3",
    )  # fmt: skip
    assert len(runs) == 8  # Gemma 0- and 5-shot × 2 tasks × 2 campaigns
    assert [line.split(":")[0] for line in demo.skipped] == ["crows-pairs-fr", "bbq"]
    app = create_app(Settings(db=demo.db, artifacts=str(demo.artifacts)))
    with app.state.db() as s:
        assert (
            s.scalar(select(func.count()).select_from(Snapshot)) == 4
        )  # closed: 2 phases × 2 tasks
    web = TestClient(app)
    board = web.get("/api/campaigns/2/tasks/culture-fr/leaderboard?phase=dev").json()["rows"]
    teams = {r["team"] for r in board}
    assert teams == {"Gemma 3 270M · 0-shot", "Gemma 3 270M · 5-shot", "Hasard", "Majoritaire",
                     "Premier choix"}  # fmt: skip
    assert all(r["ci"] and r["ci"][0] <= r["value"] <= r["ci"][1] for r in board)
    gemma = next(r for r in board if r["team"] == "Gemma 3 270M · 0-shot")
    assert gemma["value"] > 0.35  # a real model: well above the random baseline's 0.25
    page = web.get("/campaigns/2/tasks/culture-fr/leaderboard?phase=dev")
    assert page.status_code == 200 and "<svg" in page.text
    closed = web.get("/campaigns/1/tasks/culture-fr/leaderboard?phase=dev&part=private")
    assert "Partie privée" in closed.text and "Hasard" in closed.text  # ended: open to all
    challenge = web.get("/challenges/grand-defi-ia-fr").text
    assert "automne-2026" in challenge or "Campagne d&#39;automne 2026" in challenge
    login = web.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert token
    res = web.post(
        "/login",
        data={"name": "gemma0", "password": PASSWORD, "csrf": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert res.status_code == 303
    assert "gemma0" in web.get("/submissions").text
