"""Every page × every kind of visitor (anonymous, participant A registered with a scored run,
participant B of another team, organiser, auditor), signed in through real sessions; a page
added without its row fails the test. Every form post without its CSRF token is refused, and a
crawl of every page as a participant never shows a hidden reference (canary strings)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.campaigns.conftest import db_url  # noqa: F401  (fixture)
from tests.campaigns.test_authz import CANARY, _setup

from palmares.campaigns import log_in, set_password
from palmares.web.pages import MODULES

PASSWORD = "correct horse battery"
USERS = {"A": "alice", "B": "bob", "organiser": "olga", "auditor": "audrey"}
LOGIN = 303  # sent to the login page


def _pages(sid: str) -> list[tuple[str, dict[str, int]]]:
    everyone = dict.fromkeys(["anonymous", "A", "B", "organiser", "auditor"], 200)
    signed_in = {"anonymous": LOGIN, "A": 200, "B": 200, "organiser": 200, "auditor": 200}
    team = {"anonymous": LOGIN, "A": 200, "B": 200, "organiser": 403, "auditor": 403}
    staff = {"anonymous": LOGIN, "A": 403, "B": 403, "organiser": 200, "auditor": 200}
    # the hidden split's ids and inputs: approved teams (A) and staff, as the API's /data
    hidden = {"anonymous": LOGIN, "A": 200, "B": 403, "organiser": 200, "auditor": 200}
    return [
        ("/", everyone),
        ("/challenges/defi-fr", everyone),
        ("/campaigns/1", everyone),
        ("/campaigns/1/tasks/canary-qa", everyone),
        ("/campaigns/1/tasks/canary-qa/data?split=dev", everyone),
        ("/campaigns/1/tasks/canary-qa/data?split=test", hidden),
        ("/campaigns/1/tasks/canary-qa/sample?split=dev", everyone),
        ("/campaigns/1/tasks/canary-qa/sample?split=test&format=csv", hidden),
        ("/campaigns/1/tasks/canary-qa/leaderboard?phase=dev", everyone),
        ("/campaigns/1/tasks/canary-qa/leaderboard?phase=dev&part=private", everyone),
        ("/login", everyone),
        ("/signup", everyone),
        ("/team", team),
        ("/account/tokens", signed_in),
        ("/campaigns/1/register", signed_in),
        ("/campaigns/1/tasks/canary-qa/submit", signed_in),
        ("/submissions", signed_in),
        (f"/submissions/{sid}", {**signed_in, "B": 404}),
        ("/console", staff),
        ("/console/campaigns/1", staff),
        ("/console/jobs", staff),
        ("/console/challenges/defi-fr/invitations", staff),
    ]


def test_every_page_for_every_visitor(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    api, _, sid = _setup(db_url, tmp_path)
    app = api.app
    db = app.state.db  # type: ignore[attr-defined]
    clients = {"anonymous": TestClient(app)}
    for who, name in USERS.items():
        set_password(db, name, PASSWORD)
        clients[who] = TestClient(
            app, cookies={"palmares_session": log_in(db, name, PASSWORD).token}
        )
    pages = _pages(sid)
    covered = {path.split("?")[0].replace(sid, "{submission_id}") for path, _ in pages}
    posts = []
    for module in MODULES:
        for route in module.router.routes:
            path = getattr(route, "path", "")
            concrete = (
                path.replace("{campaign_id}", "1")
                .replace("{task_id}", "canary-qa")
                .replace("{challenge_id}", "defi-fr")
                .replace("{phase_id}", "1")
            )
            methods = getattr(route, "methods", set())
            if "GET" in methods:
                assert concrete in covered, f"GET {path} is missing from the page matrix"
            if "POST" in methods:
                posts.append(concrete.replace("{submission_id}", sid))
    crawl = []
    downloaded = clients["A"].get("/campaigns/1/tasks/canary-qa/data?split=test").text
    assert downloaded.count('"inputs"') == 30 and '"reference"' not in downloaded
    for path, expected in pages:
        for who, status in expected.items():
            res = clients[who].get(path, follow_redirects=False)
            assert res.status_code == status, (path, who, res.status_code)
            if status == LOGIN:
                assert res.headers["location"].startswith("/login?next=")
            if who in ("anonymous", "A", "B"):
                crawl.append(res.text)
    assert CANARY not in "\n".join(crawl), "a hidden reference reached a participant's page"
    assert len(posts) >= 9
    for path in posts:  # no CSRF token: refused before anything is read or written
        for who in ("A", "organiser"):
            res = clients[who].post(path, data={"name": "x"}, follow_redirects=False)
            assert res.status_code == 403, (path, who, res.status_code)
