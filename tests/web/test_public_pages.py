"""Public pages of the web UI: the challenge's timeline and progress on anchor items, the
campaign's phases with countdowns, the task datasheet, the leaderboard's parts and slices —
through the real app on SQLite files (and PostgreSQL for the challenge page), every
user-written text escaped."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.campaigns.conftest import (  # noqa: F401 - db_url is a fixture
    EXAMPLE,
    campaign_file,
    campaign_for_task,
    db_url,
    join,
    open_campaign_file,
    pin_partition_seed,
)

from palmares.campaigns import (
    add_user,
    create_campaign,
    create_system,
    leaderboard,
    log_in,
    register,
    run_one,
    set_password,
    submit_predictions,
)
from palmares.web import Settings, create_app
from palmares.web.pages import public
from palmares.web.pages.timeline import day_label, remaining

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PASSWORD = "correct horse battery staple"


def _app(tmp_path: Path, url: str | None = None) -> TestClient:
    settings = Settings(
        db=url or f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "artifacts")
    )
    return TestClient(create_app(settings))


def _signed_in(web: TestClient, name: str, role: str, team: str | None = None) -> str:
    """A user with a browser session on ``web``; their API token."""
    db = web.app.state.db  # type: ignore[attr-defined]
    token = add_user(db, name, role, team=team)
    set_password(db, name, PASSWORD)
    web.cookies.set("palmares_session", log_in(db, name, PASSWORD).token)
    return token


def _predictions(path: Path, wrong: set[str]) -> Path:
    """The baseline's predictions with the items in ``wrong`` answered wrongly."""
    rows = [json.loads(x) for x in (EXAMPLE / "baseline.jsonl").read_text("utf-8").splitlines()]
    references = {
        r["id"]: r["label"]
        for r in map(json.loads, (EXAMPLE / "avis.jsonl").read_text("utf-8").splitlines())
    }
    for row in rows:
        truth = references[row["id"]]
        other = "négatif" if truth == "positif" else "positif"
        row["prediction"] = other if row["id"] in wrong else truth
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _items_by_domain() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in (EXAMPLE / "avis.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        out.setdefault(row["domaine"], set()).add(row["id"])
    return out


def _drain(web: TestClient, clock: datetime | None = None) -> None:
    db, artifacts = web.app.state.db, web.app.state.artifacts  # type: ignore[attr-defined]
    if clock is None:
        while run_one(db, artifacts) is not None:
            pass
    else:
        while run_one(db, artifacts, clock=lambda: clock) is not None:
            pass


def test_time_helpers() -> None:
    assert remaining(timedelta(days=2, hours=3, minutes=4)) == [(2, "d"), (3, "h")]
    assert remaining(timedelta(hours=5, minutes=7, seconds=9)) == [(5, "h"), (7, "min")]
    assert remaining(timedelta(minutes=12, seconds=5)) == [(12, "min"), (5, "s")]
    assert remaining(timedelta(seconds=-3)) == [(0, "min"), (0, "s")]
    midnight = datetime(2027, 4, 16, tzinfo=UTC)
    assert day_label(midnight) == "2027-04-16"
    assert day_label(midnight, end=True) == "2027-04-15"  # the phase's last day
    assert day_label(midnight.replace(hour=18), end=True) == "2027-04-16 18:00 UTC"


def test_challenge_page_timeline_and_anchor_progress(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """Two campaigns, the second carrying anchors from the first (as in test_anchors): the
    timeline, and the progress plot for staff; withheld from others until the campaign ends."""
    web = _app(tmp_path, db_url)
    db, artifacts = web.app.state.db, web.app.state.artifacts  # type: ignore[attr-defined]
    first = create_campaign(db, campaign_file(tmp_path))
    folder = tmp_path / "c2"
    shutil.copytree(EXAMPLE, folder / "task")
    body = campaign_file(tmp_path).read_text("utf-8")
    body = body.replace("{id: 2027-printemps,", "{id: 2027-automne, anchors_from: 2027-printemps,")
    body = body.replace("Campagne de printemps 2027", "Campagne d'automne")
    body = body.replace(str(EXAMPLE / "task.yaml"), str(folder / "task" / "task.yaml"))
    body = body.replace("2027-0", "2028-0")  # the phases a year later
    (folder / "campaign.yaml").write_text(body, "utf-8")
    second = create_campaign(db, folder / "campaign.yaml")
    domains = _items_by_domain()
    teams = {XSS: (domains["film"], set()), "lab-b": (domains["livre"], domains["film"])}
    for i, (team, (before, after)) in enumerate(teams.items()):
        token = join(db, f"user{i}", team, first)
        register(db, token, second, accept_rules=True)
        at = datetime(2027, 3, 10, tzinfo=UTC)
        submit_predictions(
            db,
            artifacts,
            token,
            first,
            "avis-fr",
            _predictions(tmp_path / f"{i}a.jsonl", before),
            at,
        )
        later = datetime(2028, 3, 10, tzinfo=UTC)
        submit_predictions(
            db,
            artifacts,
            token,
            second,
            "avis-fr",
            _predictions(tmp_path / f"{i}b.jsonl", after),
            later,
        )
    _drain(web, datetime(2028, 3, 10, tzinfo=UTC))

    home = web.get("/")
    assert '<a href="/challenges/defi-fr">Défi IA en français</a>' in home.text
    anonymous = web.get("/challenges/defi-fr")
    assert anonymous.status_code == 200
    page = anonymous.text
    assert '<svg class="timeline" role="img"' in page and '<title id="timeline-title">' in page
    for label in ("dev · 2027-03-01 → 2027-04-15", "test · 2028-04-16 → 2028-04-23"):
        assert label in page  # phase kind and dates as text, not colour alone
    assert "◀ aujourd&#39;hui" in page  # today lies before both campaigns
    assert '<th scope="row" rowspan="2"><a href="/campaigns/2">Campagne d&#39;automne</a>' in page
    assert "publiés à la fin de la campagne" in page and 'class="progress"' not in page
    assert XSS not in page

    _signed_in(web, "orga", "organiser")
    staff = web.get("/challenges/defi-fr").text
    assert '<svg class="progress" role="img" aria-labelledby="progress-0"' in staff
    assert '<title id="progress-0">Progrès sur les items d&#39;ancrage — avis-fr, accuracy' in staff
    assert staff.count(f">{ESCAPED}</text>") == 2  # named at both ends of its line
    assert staff.count(">lab-b</text>") == 2 and XSS not in staff
    table = staff[staff.index("48 items d&#39;ancrage") :]
    row = re.search(rf"<th scope=\"row\">{re.escape(ESCAPED)}</th>(.*?)</tr>", table, re.S)
    assert row is not None
    values = re.findall(r"<td>([01]\.\d{3}) \[", row.group(1))
    assert len(values) == 2 and float(values[1]) > float(values[0])  # this team got better
    assert web.get("/challenges/nope").status_code == 404


def test_no_anchors_is_said_and_today_is_marked(tmp_path: Path) -> None:
    web = _app(tmp_path)
    create_campaign(web.app.state.db, open_campaign_file(tmp_path))  # type: ignore[attr-defined]
    page = web.get("/challenges/defi-fr").text
    assert "ne reprend d&#39;items d&#39;ancrage" in page
    assert '<line class="today"' in page and f"aujourd&#39;hui ({datetime.now(UTC).date()})" in page
    english = web.get("/challenges/defi-fr?lang=en").text
    assert "Campaign calendar" in english and "no progress to measure" in english


def test_campaign_page_countdown_registration_and_links(tmp_path: Path) -> None:
    web = _app(tmp_path)
    db = web.app.state.db  # type: ignore[attr-defined]
    create_campaign(db, open_campaign_file(tmp_path))
    page = web.get("/campaigns/1")
    assert page.status_code == 200
    assert '<a href="/challenges/defi-fr">Défi IA en français</a>' in page.text
    # the dev phase ends at the start of the day after tomorrow: between 24 and 48 hours away
    countdown = re.search(r"data-countdown[^>]*>se termine dans 1 j \d{1,2} h</time>", page.text)
    assert countdown is not None
    assert re.search(r">commence dans \d j \d{1,2} h</time>", page.text)  # the test phase
    assert '<script src="/static/countdown.js" defer></script>' in page.text
    assert "<script>" not in page.text  # the CSP forbids inline scripts
    assert "50 par jour, 5 au total" in page.text and "3 au total" in page.text
    assert "aucun score avant la fin" in page.text and "fichier de prédictions" in page.text
    assert '<a href="/campaigns/1/tasks/avis-fr">Avis en français : polarité</a>' in page.text
    assert 'href="/campaigns/1/tasks/avis-fr/leaderboard?phase=test"' in page.text
    assert "Connectez-vous pour inscrire votre équipe" in page.text
    assert "/submit" not in page.text
    script = web.get("/static/countdown.js")
    assert script.status_code == 200 and "data-countdown" in script.text
    assert re.search(r">ends in 1 d \d{1,2} h</time>", web.get("/campaigns/1?lang=en").text)
    web.get("/campaigns/1?lang=fr")

    token = _signed_in(web, "bob", "participant", team="lab-b")
    unregistered = web.get("/campaigns/1").text
    assert (
        '<a class="action" href="/campaigns/1/register">S&#39;inscrire (accepter le règlement)</a>'
        in unregistered
    )
    assert 'href="/campaigns/1/tasks/avis-fr/submit">Soumettre' in unregistered
    register(db, token, 1, accept_rules=True)
    registered = web.get("/campaigns/1").text
    assert "Votre équipe est inscrite à cette campagne." in registered
    assert "/campaigns/1/register" not in registered


def _mini_task(folder: Path) -> Path:
    """A task with a public dev split (6 items) and a hidden test split (8 items) whose ids,
    inputs and references are recognisable strings."""
    folder.mkdir(parents=True, exist_ok=True)
    dev = [
        {
            "id": f"d-{i}",
            "texte": f"avis public {i}",
            "label": "oui" if i % 2 else "non",
            "domaine": "film",
        }
        for i in range(6)
    ]
    test = [
        {
            "id": f"secret-id-{i}",
            "texte": f"entrée-secrète-{i}",
            "label": f"réf-secrète-{i % 2}",
            "domaine": f"tranche-secrète-{i % 3}",
        }
        for i in range(8)
    ]
    for name, rows in (("dev", dev), ("test", test)):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        (folder / f"{name}.jsonl").write_text(text, "utf-8")
    (folder / "task.yaml").write_text(
        f"""
id: mini
version: 2
title: "Mini tâche"
language: fr
license: CC-BY-4.0
description: "{XSS}"
dataset:
  splits: {{dev: dev.jsonl, test: test.jsonl}}
  format: jsonl
  id_field: id
  input_fields: [texte]
  reference_field: label
  slice_fields: [domaine]
protocol: {{type: predictions}}
metrics: [accuracy, macro_f1]
""",
        "utf-8",
    )
    return folder / "task.yaml"


def test_task_datasheet_shows_sizes_never_hidden_items(tmp_path: Path) -> None:
    web = _app(tmp_path)
    _mini_task(tmp_path / "mini")
    create_campaign(
        web.app.state.db,  # type: ignore[attr-defined]
        campaign_for_task(tmp_path, "mini/task.yaml", public_split="dev", hidden_split="test"),
    )
    page = web.get("/campaigns/1/tasks/mini")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Mini tâche</h1>" in text and "CC-BY-4.0" in text and 'lang="fr">fr</dd>' in text
    assert ESCAPED in text and XSS not in text  # the description is the task author's text
    assert re.search(
        r'<th scope="row">dev</th>\s*<td>publique \(avec les références\)</td><td>6</td>', text
    )
    assert re.search(
        r'<th scope="row">test</th>\s*<td>cachée \(sert au classement\)</td><td>8</td>', text
    )
    for field in (
        "<code>id</code>",
        "<code>texte</code>",
        "<code>label</code>",
        "<code>domaine</code>",
    ):
        assert field in text
    assert "<code>predictions</code>" in text
    assert "<code>accuracy</code> — <strong>métrique principale" in text
    assert "<code>macro_f1</code></li>" in text
    for secret in ("secret-id", "entrée-secrète", "réf-secrète", "tranche-secrète"):
        assert secret not in text  # nothing of the hidden split but its size
    link = "/api/campaigns/1/tasks/mini/data/dev"
    assert f'href="{link}"' in text
    download = web.get(link)  # public split: no token needed, references included
    assert download.status_code == 200 and '"reference": "oui"' in download.text
    assert web.get("/api/campaigns/1/tasks/mini/data/test").status_code in (401, 403)
    assert "Fields" in web.get("/campaigns/1/tasks/mini?lang=en").text
    assert web.get("/campaigns/1/tasks/nope").status_code == 404


def test_leaderboard_parts_and_slices(tmp_path: Path) -> None:
    web = _app(tmp_path)
    db, artifacts = web.app.state.db, web.app.state.artifacts  # type: ignore[attr-defined]
    # a fixed partition: which team leads on the public part depends on which items are in it
    pin_partition_seed(db, create_campaign(db, open_campaign_file(tmp_path)), "avis-fr")
    domains = _items_by_domain()
    # overall lab-a is better; on films lab-b is
    plans = {"lab-a": domains["film"], "lab-b": domains["livre"] | domains["restaurant"]}
    for team, wrong in plans.items():
        token = join(db, f"u-{team}", team)
        submit_predictions(
            db, artifacts, token, 1, "avis-fr", _predictions(tmp_path / f"{team}.jsonl", wrong)
        )
    _drain(web)
    base = "/campaigns/1/tasks/avis-fr/leaderboard"

    public = web.get(f"{base}?phase=dev").text
    assert (
        f'<a href="{base}?phase=dev&amp;part=public" aria-current="page">Partie publique</a>'
        in public
    )
    assert "part=private" not in public and "publiée à la fin de la phase" in public
    assert public.index(">lab-a</th>") < public.index(">lab-b</th>")
    assert '<svg class="forest" role="img"' in public and "IC à 95 %" in public
    # one rule (issue #14): the old "overlapping intervals" note is gone, the verdict decides
    assert "se chevauchent" not in public and "lisez le verdict" in public
    assert "plus haut = meilleur" in public  # accuracy: ↑
    assert '<label for="f-slice">Tranche des données</label>' in public
    for value in ("film", "livre", "restaurant"):
        assert f'<option value="domaine:{value}">domaine = {value}</option>' in public
    assert f'<a href="{base}?phase=test&amp;part=public">Phase test</a>' in public

    films = web.get(f"{base}?phase=dev&slice=domaine:film").text
    assert '<option value="domaine:film" selected>' in films
    assert "tranche domaine = film" in films
    assert films.index(">lab-b</th>") < films.index(">lab-a</th>")  # re-ranked on the slice
    rows = leaderboard(db, 1, "avis-fr", "dev", "public")
    n_film = rows[0]["slices"]["domaine"]["film"]["accuracy"]["n"]
    assert n_film < rows[0]["n"] and f"<td>{n_film}</td>" in films
    assert "<title>avis-fr — dev, public — domaine = film</title>" in films
    assert "tranche domaine" not in web.get(f"{base}?phase=dev&slice=domaine:nope").text

    private = web.get(f"{base}?phase=dev&part=private")
    assert (
        private.status_code == 200
        and "La partie privée est publiée à la fin de la phase" in private.text
    )
    assert "lab-a" not in private.text  # nothing of the private part during the phase
    assert "pas public avant sa fin" in web.get(f"{base}?phase=test").text  # feedback: none

    _signed_in(web, "orga", "organiser")
    staff = web.get(f"{base}?phase=dev&part=private").text
    assert 'aria-current="page">Partie privée (classement final)</a>' in staff
    assert "partie privée" in staff and ">lab-a</th>" in staff and "<svg" in staff
    staff_slice = web.get(f"{base}?phase=dev&part=private&slice=domaine:livre").text
    assert "partie privée — tranche domaine = livre" in staff_slice
    assert web.get(f"{base}?phase=final").status_code == 404
    assert web.get("/campaigns/1/tasks/nope/leaderboard?phase=dev").status_code == 404


def test_private_part_opens_to_everyone_when_the_phase_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = _app(tmp_path)
    db, artifacts = web.app.state.db, web.app.state.artifacts  # type: ignore[attr-defined]
    create_campaign(db, campaign_file(tmp_path))  # 2027: submit and score inside its dev phase
    token = join(db, "alice", "lab-a")
    at = datetime(2027, 3, 10, tzinfo=UTC)
    submit_predictions(db, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl", at)
    _drain(web, at)
    base = "/campaigns/1/tasks/avis-fr/leaderboard?phase=dev&part=private"
    assert "lab-a" not in web.get(base).text  # before 2027-04-16: not yet

    class Later(datetime):  # the page's clock, after the dev phase
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Later:
            return cls(2027, 5, 1, tzinfo=UTC)

    monkeypatch.setattr(public, "datetime", Later)
    ended = web.get(base).text
    assert 'aria-current="page">Partie privée (classement final)</a>' in ended
    assert ">lab-a</th>" in ended


def test_user_text_is_escaped_on_every_page(tmp_path: Path) -> None:
    web = _app(tmp_path)
    db, artifacts = web.app.state.db, web.app.state.artifacts  # type: ignore[attr-defined]
    path = open_campaign_file(tmp_path)
    body = path.read_text("utf-8").replace("Défi IA en français", XSS)
    path.write_text(body.replace("Campagne de printemps 2027", XSS), "utf-8")
    create_campaign(db, path)
    token = join(db, "alice", XSS)
    create_system(db, token, XSS)
    submit_predictions(db, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl", system=XSS)
    _drain(web)
    _signed_in(web, "orga", "organiser")  # staff: every part of every page is shown
    base = "/campaigns/1/tasks/avis-fr"
    pages = [
        "/",
        "/challenges/defi-fr",
        "/campaigns/1",
        base,
        f"{base}/leaderboard?phase=dev",
        f"{base}/leaderboard?phase=dev&part=private",
        f"{base}/leaderboard?phase=dev&slice=domaine:film",
    ]
    for url in pages:
        page = web.get(url)
        assert page.status_code == 200, url
        assert XSS not in page.text and ESCAPED in page.text, url
