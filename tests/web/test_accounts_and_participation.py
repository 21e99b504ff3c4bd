"""Pages of accounts and participation, in-process (TestClient) on real databases: sign-up,
login/logout with CSRF-protected forms and HttpOnly SameSite cookies, registration with the
rules, submission with line-level errors, the run page and its item explorer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.campaigns.conftest import (  # noqa: F401  (fixtures)
    EXAMPLE,
    campaign_for_task,
    db_url,
    open_campaign_file,
)

from palmares.campaigns import add_user, create_campaign, run_one, set_password
from palmares.store import QuotaUsage, Submission, Token, User
from palmares.web import Settings, create_app

PASSWORD = "correct horse battery"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def _login(web: TestClient, name: str, password: str = PASSWORD) -> None:
    page = web.get("/login")
    res = web.post(
        "/login",
        data={"name": name, "password": password, "csrf": _csrf(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text


def _drain(web: TestClient) -> None:
    app = web.app
    while run_one(app.state.db, app.state.artifacts) is not None:  # type: ignore[attr-defined]
        pass


@pytest.fixture
def web(db_url: str, tmp_path: Path) -> TestClient:  # noqa: F811
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    create_campaign(app.state.db, open_campaign_file(tmp_path, quota=3))
    return TestClient(app)


def test_signup_login_logout_and_cookies(web: TestClient) -> None:
    db = web.app.state.db  # type: ignore[attr-defined]
    page = web.get("/signup")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert "palmares_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    form = {"name": "alice", "team": "lab-a", "password": "short", "csrf": _csrf(page.text)}
    res = web.post("/signup", data=form)
    assert res.status_code == 400 and "au moins 8 caractères" in res.text  # the page is French
    with db() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0  # nothing half-made
    res = web.post("/signup", data=form | {"password": PASSWORD}, follow_redirects=False)
    assert res.status_code == 303
    session_cookie = next(
        c for c in res.headers.get_list("set-cookie") if c.startswith("palmares_session=")
    )
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    home = web.get("/")
    assert "alice" in home.text and "Se déconnecter" in home.text
    with db() as s:
        row = s.scalar(select(Token).where(Token.kind == "session"))
        assert row is not None and row.expires_at is not None and row.csrf
        assert row.digest != web.cookies.get("palmares_session")  # only its hash is stored
        assert s.scalar(select(User.password_hash)).startswith("$argon2id$")
    # a post without the session's token is refused, and changes nothing
    assert web.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert "alice" in web.get("/").text
    res = web.post("/logout", data={"csrf": _csrf(web.get("/").text)}, follow_redirects=False)
    assert res.status_code == 303
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Token).where(Token.kind == "session")) == 0
    assert "Se connecter" in web.get("/").text
    # the same message whether the name or the password is wrong
    wrong = web.post(
        "/login",
        data={"name": "alice", "password": "nope-nope", "csrf": _csrf(web.get("/login").text)},
    )
    unknown = web.post(
        "/login",
        data={"name": "zed", "password": "nope-nope", "csrf": _csrf(web.get("/login").text)},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "nom ou mot de passe incorrect" in wrong.text
    assert "nom ou mot de passe incorrect" in unknown.text
    # a team's name is not claimed by a newcomer
    page = web.get("/signup")
    taken = web.post(
        "/signup",
        data={"name": "mallory", "team": "lab-a", "password": PASSWORD, "csrf": _csrf(page.text)},
    )
    assert taken.status_code == 400 and "demandez à un organisateur" in taken.text


def test_csrf_origin_and_open_redirects(tmp_path: Path) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    add_user(app.state.db, "alice", "participant", team="lab-a")
    set_password(app.state.db, "alice", PASSWORD)
    web = TestClient(app)
    # no cookie to compare with: the form was not shown by this site
    bare = TestClient(app)
    res = bare.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": "x"})
    assert res.status_code == 403 and "rechargez la page" in res.text
    page = web.get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in page.text
    token = _csrf(page.text)
    res = web.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf": token, "next": "/team"},
        headers={"Origin": "https://evil.example"},
    )
    assert res.status_code == 403
    res = web.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf": token, "next": "https://evil.example"},
        follow_redirects=False,
    )
    assert res.status_code == 303 and res.headers["location"] == "/"
    assert "default-src 'self'" in web.get("/").headers["content-security-policy"]
    # pages behind a login send anonymous visitors to it, with the way back
    res = TestClient(app).get("/submissions", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login?next=/submissions"


def test_register_submit_errors_run_page(web: TestClient, tmp_path: Path) -> None:
    db = web.app.state.db  # type: ignore[attr-defined]
    add_user(db, "alice", "participant", team="<b>lab</b>")
    set_password(db, "alice", PASSWORD)
    _login(web, "alice")
    submit_url = "/campaigns/1/tasks/avis-fr/submit"
    assert (
        "s&#39;inscrire" in web.get(submit_url).text.lower()
        or "inscrire" in web.get(submit_url).text
    )
    page = web.get("/campaigns/1/register")
    refused = web.post("/campaigns/1/register", data={"csrf": _csrf(page.text)})
    assert refused.status_code == 400 and "accepter le règlement" in refused.text
    res = web.post(
        "/campaigns/1/register",
        data={"csrf": _csrf(page.text), "accept_rules": "yes"},
        follow_redirects=False,
    )
    assert res.status_code == 303
    assert "inscrite" in web.get("/campaigns/1/register").text

    form = web.get(submit_url)
    assert "3 au total" in form.text
    bad = tmp_path / "mine.jsonl"
    lines = (EXAMPLE / "baseline.jsonl").read_text("utf-8").splitlines()
    lines[2] = json.dumps({"id": "avis-003"})  # line 3 lacks its prediction
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    with bad.open("rb") as fh:
        res = web.post(
            submit_url,
            data={"csrf": _csrf(form.text), "kind": "predictions"},
            files={"file": ("mine.jsonl", fh)},
        )
    assert res.status_code == 400
    error = res.text[res.text.index('id="form-error"') :]
    assert "mine.jsonl" in error and '<dd class="line">3</dd>' in error and "prediction" in error
    assert str(tmp_path) not in res.text and "3 au total" in res.text  # quota untouched
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 0
        assert s.scalar(select(func.count()).select_from(QuotaUsage)) == 0

    with (EXAMPLE / "baseline.jsonl").open("rb") as fh:
        res = web.post(
            submit_url,
            data={"csrf": _csrf(form.text), "kind": "predictions"},
            files={"file": ("baseline.jsonl", fh)},
            follow_redirects=False,
        )
    assert res.status_code == 303
    run_url = res.headers["location"]
    waiting = web.get(run_url)
    assert 'http-equiv="refresh"' in waiting.text and "en attente" in waiting.text
    _drain(web)
    run = web.get(run_url)
    assert "notée" in run.text and 'http-equiv="refresh"' not in run.text
    assert re.search(r"\[0\.\d{3}, [01]\.\d{3}\]", run.text)  # the CI, as shown
    assert "Par domaine" in run.text  # scores by slice
    assert "&lt;b&gt;lab&lt;/b&gt;" in web.get("/submissions").text
    # another team's participant sees nothing of it
    add_user(db, "bob", "participant", team="lab-b")
    set_password(db, "bob", PASSWORD)
    other = TestClient(web.app)
    _login(other, "bob")
    assert other.get(run_url).status_code == 404
    assert "baseline" not in other.get("/submissions").text


def test_item_explorer_on_the_public_split(tmp_path: Path) -> None:
    rows = [{"id": f"q{i}", "question": f"Question {i} ?", "answer": f"r{i}"} for i in range(6)]
    for split in ("dev", "test"):
        (tmp_path / f"{split}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), "utf-8"
        )
    (tmp_path / "task.yaml").write_text(
        "id: qa\nversion: 1\ntitle: QA\nlanguage: fr\nlicense: CC0-1.0\n"
        "dataset: {splits: {dev: dev.jsonl, test: test.jsonl}, format: jsonl, id_field: id,"
        " input_fields: [question], reference_field: answer}\nmetrics: [exact_match]\n",
        "utf-8",
    )
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    create_campaign(app.state.db, campaign_for_task(tmp_path, public_split="dev"))
    add_user(app.state.db, "alice", "participant", team="lab-a")
    set_password(app.state.db, "alice", PASSWORD)
    web = TestClient(app)
    _login(web, "alice")
    page = web.get("/campaigns/1/register")
    web.post("/campaigns/1/register", data={"csrf": _csrf(page.text), "accept_rules": "yes"})
    preds = "".join(
        json.dumps({"id": r["id"], "prediction": r["answer"] if r["id"] < "q3" else "<i>x</i>"})
        + "\n"
        for r in rows
    )
    form = web.get("/campaigns/1/tasks/qa/submit")
    res = web.post(
        "/campaigns/1/tasks/qa/submit",
        data={"csrf": _csrf(form.text), "kind": "predictions", "split": "public"},
        files={"file": ("p.jsonl", preds)},
        follow_redirects=False,
    )
    run_url = res.headers["location"]
    _drain(web)
    everything = web.get(run_url)
    assert "6 items" in everything.text and everything.text.count("✓") == 3
    errors = web.get(run_url + "?errors=1")
    table = errors.text[errors.text.index('id="item-explorer"') :]
    assert "3 items en erreur" in errors.text and table.count("✗ erreur") == 3
    assert "Question 4 ?" in table and "r4" in table and "&lt;i&gt;x&lt;/i&gt;" in table
    assert "q0" not in table  # right answers are filtered out
    # a hidden-split run has no explorer: its references are never shown
    res = web.post(
        "/campaigns/1/tasks/qa/submit",
        data={"csrf": _csrf(form.text), "kind": "predictions"},
        files={"file": ("p.jsonl", preds)},
        follow_redirects=False,
    )
    _drain(web)
    hidden = web.get(res.headers["location"])
    assert "item-explorer" not in hidden.text and "Question 4" not in hidden.text


def test_rounded_feedback_rounds_the_public_board_too(tmp_path: Path) -> None:
    from tests.campaigns.conftest import join

    from palmares.campaigns import update_phase

    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    db = app.state.db
    create_campaign(db, open_campaign_file(tmp_path))
    update_phase(
        db, 1, quota_per_day=None, quota_total=None, feedback="rounded", leaderboard="public",
        actor="test",
    )  # fmt: skip
    token = join(db, "alice", "lab-a")
    from palmares.campaigns import submit_predictions

    submit_predictions(db, app.state.artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl")
    web = TestClient(app)
    _drain(web)
    rows = web.get("/api/campaigns/1/tasks/avis-fr/leaderboard?phase=dev").json()["rows"]
    assert rows and rows[0]["value"] == round(rows[0]["value"], 2)
    for score in rows[0]["scores"].values():
        assert score["ci"] is None or all(c == round(c, 2) for c in score["ci"])
    page = web.get("/campaigns/1/tasks/avis-fr/leaderboard?phase=dev").text
    assert re.search(r"\b0\.\d\d0\b", page)  # shown as 0.xx0: two decimals, no more


def test_cli_sets_a_password_from_stdin(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from palmares.cli import _campaign, cli  # noqa: F401  (_campaign registers `users`)

    url = f"sqlite:///{tmp_path / 'p.db'}"
    runner = CliRunner()
    short = runner.invoke(
        cli, ["users", "add", "olga", "--role", "organiser", "--db", url, "--password-stdin"],
        input="short\n",
    )  # fmt: skip
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    done = runner.invoke(
        cli, ["users", "add", "olga", "--role", "organiser", "--db", url, "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.exit_code == 0 and done.output.startswith("plm_")
    web = TestClient(create_app(Settings(db=url, artifacts=str(tmp_path / "a"))))
    _login(web, "olga")
    assert web.get("/console").status_code == 200
