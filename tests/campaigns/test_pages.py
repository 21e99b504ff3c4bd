"""Server-rendered pages (first slice of the web UI): French by default, English on request,
everything user-written escaped, the leaderboard with its intervals and forest plot."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.campaigns.conftest import EXAMPLE, join, open_campaign_file

from palmares.campaigns import create_campaign, create_system, run_one, submit_predictions
from palmares.web import Settings, create_app
from palmares.web.pages.i18n import catalogue

XSS = "<script>alert(1)</script>"


def test_pages_language_escaping_and_leaderboard(tmp_path: Path) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    db, artifacts = app.state.db, app.state.artifacts
    create_campaign(db, open_campaign_file(tmp_path))
    token = join(db, "alice", XSS)  # a team named like an attack
    create_system(db, token, XSS)
    submit_predictions(db, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl", system=XSS)
    while run_one(db, artifacts) is not None:
        pass
    web = TestClient(app)
    home = web.get("/")
    assert home.status_code == 200 and "Défis" in home.text and 'lang="fr"' in home.text
    english = web.get("/?lang=en")
    assert "Challenges" in english.text and 'lang="en"' in english.text
    assert "Challenges" in web.get("/").text  # remembered (cookie)
    assert "Défis" in web.get("/?lang=fr").text
    page = web.get("/campaigns/1/tasks/avis-fr/leaderboard?phase=dev")
    assert page.status_code == 200
    assert XSS not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<svg" in page.text and "IC à 95 %" in page.text and "[0." in page.text
    hidden = web.get("/campaigns/1/tasks/avis-fr/leaderboard?phase=test")
    assert "pas public avant sa fin" in hidden.text  # the test phase gives no feedback
    assert web.get("/static/palmares.css").status_code == 200
    assert web.get("/campaigns/1").status_code == 200
    assert web.get("/campaigns/9").status_code == 404


def test_every_page_text_has_an_english_translation() -> None:
    import re

    english = catalogue("en")
    templates = Path(__file__).resolve().parents[2] / "src/palmares/web/pages/templates"
    for path in templates.glob("*.html"):
        for text in re.findall(r"""_\((['"])(.*?)\1\)""", path.read_text("utf-8")):
            assert text[1] in english, f"{path.name}: no English for {text[1]!r}"
