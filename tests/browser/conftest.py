"""A live Palmarès server (uvicorn in a thread, with the real worker scoring the queue in
another) and Debian's Chromium driven by Playwright.

Each pytest process (each xdist worker) starts its own server on a free port, with its own
database and artifacts in its own temporary folder; every test gets a fresh browser context.
Tests save a full-page screenshot of every page they visit under ``build/screenshots`` (the CI
artifacts) and check the accessibility basics there (:func:`visited`).

Chromium is the Debian package (``/usr/bin/chromium``): never ``playwright install``, which
downloads browsers.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import (
    Artifacts,
    add_user,
    create_campaign,
    register,
    run_one,
    set_password,
    submit_predictions,
)
from palmares.store import Submission
from palmares.web import Settings, create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
    "--no-proxy-server",  # the server is local: never through a proxy from the environment
]
#: the folder that task paths of a campaign YAML sent from the console start from
TASKS_DIR = ROOT / "src" / "palmares" / "examples"
EXAMPLE = TASKS_DIR / "avis-fr"
BASELINE = EXAMPLE / "baseline.jsonl"
TASK = "avis-fr"
PASSWORD = "un mot de passe sûr"
#: how long a test waits for the worker to score a submission (seconds)
SCORING_TIMEOUT_S = 30.0

#: the campaign every test but the organiser's uses (created through the service)
SHARED_CHALLENGE = ("defi-navigateur", "Défi du navigateur")
SHARED_CAMPAIGN = ("commun", "Campagne commune")


def open_campaign_yaml(
    slug: str,
    title: str,
    task: str,
    challenge: tuple[str, str] = SHARED_CHALLENGE,
    quota: int = 50,
) -> str:
    """A campaign on one task whose dev phase is open now (yesterday to tomorrow), with full
    feedback; a test phase after it, which shows no score until it ends."""
    now = datetime.now(UTC)

    def day(offset: int) -> str:
        return (now + timedelta(days=offset)).date().isoformat()

    return f"""\
challenge: {{id: {challenge[0]}, title: "{challenge[1]}"}}
campaign: {{id: {slug}, title: "{title}"}}
tasks:
  - {{task: {task}, hidden_split: test}}
phases:
  - {{kind: dev, start: {day(-1)}, end: {day(1)}, quota: {{per_day: {quota}, total: {quota}}},
     feedback: full, accepts: [predictions]}}
  - {{kind: test, start: {day(2)}, end: {day(3)}, quota: {{total: 3}}, feedback: none}}
"""


def unique(prefix: str) -> str:
    """A name no other test of this server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    token: str  # an API token, for setting up through the services
    team: str | None = None


@dataclass
class Live:
    """The running server: its address, its application (database, artifacts), and what the
    worker thread failed on (a test fails on any)."""

    url: str
    app: FastAPI
    folder: Path
    worker_errors: list[str] = field(default_factory=list)

    @property
    def db(self) -> sessionmaker[Session]:
        db: sessionmaker[Session] = self.app.state.db
        return db

    @property
    def artifacts(self) -> Artifacts:
        artifacts: Artifacts = self.app.state.artifacts
        return artifacts

    def account(self, role: str, team: str | None = None, prefix: str = "user") -> Account:
        """A user with a password (``palmares users add`` then ``users password``)."""
        name = unique(prefix)
        token = add_user(self.db, name, role, team=team)
        set_password(self.db, name, PASSWORD)
        return Account(name, PASSWORD, token, team)

    def participant(self, campaign_id: int, team: str | None = None) -> Account:
        """A participant of a new team, registered to the campaign (rules accepted)."""
        account = self.account("participant", team=team or unique("Équipe"), prefix="membre")
        register(self.db, account.token, campaign_id, accept_rules=True)
        return account

    def scored(self, account: Account, campaign_id: int, system: str | None = None) -> str:
        """The baseline predictions submitted on the hidden split and scored by the worker."""
        sid = submit_predictions(
            self.db, self.artifacts, account.token, campaign_id, TASK, BASELINE, system=system
        )
        self.wait_scored(sid)
        return sid

    def wait_scored(self, submission_id: str, timeout: float = SCORING_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            assert not self.worker_errors, self.worker_errors[0]
            with self.db() as s:
                row = s.get(Submission, submission_id)
                status = None if row is None else row.status
            if status == "scored":
                return
            assert status != "failed", f"submission {submission_id} failed"
            time.sleep(0.1)
        raise AssertionError(f"submission {submission_id} still {status} after {timeout} s")


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the system picks a free port: no race between workers
    sock.listen(128)
    return sock


def _answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _work(live: Live, stop: threading.Event) -> None:
    """The real worker's loop: score one queued job after another, wait a little when none."""
    while not stop.is_set():
        try:
            done = run_one(live.db, live.artifacts)
        except Exception:
            live.worker_errors.append(traceback.format_exc())
            done = None
        if done is None:
            stop.wait(0.1)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")  # one per xdist worker
    settings = Settings(
        db=f"sqlite:///{folder / 'palmares.db'}",
        artifacts=str(folder / "artifacts"),
        tasks_dir=str(TASKS_DIR),
        # every browser test signs up from 127.0.0.1 on this one server: the sign-up throttle
        # (3 an hour per address, tested in tests/web) would refuse the fourth
        signup_per_hour=1000,
    )
    app = create_app(settings)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    serving = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    serving.start()
    deadline = time.monotonic() + 30
    while not _answers(port, "/healthz"):
        assert serving.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    live = Live(f"http://127.0.0.1:{port}", app, folder)
    stop = threading.Event()
    worker = threading.Thread(target=_work, args=(live, stop), daemon=True)
    worker.start()
    yield live
    stop.set()
    server.should_exit = True
    worker.join(timeout=SCORING_TIMEOUT_S)
    serving.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def campaign(live: Live) -> int:
    """The shared campaign (dev phase open now), created as ``palmares campaigns create``
    would; its id."""
    path = live.folder / "campaign.yaml"
    path.write_text(
        open_campaign_yaml(*SHARED_CAMPAIGN, task=str(EXAMPLE / "task.yaml")), encoding="utf-8"
    )
    return create_campaign(live.db, path)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    """A fresh context (no cookies) and page on the live server; the test fails if the
    server answers any request with a 5xx or the worker fails."""
    context = browser.new_context(base_url=live.url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    server_errors: list[str] = []
    context.on(
        "response",
        lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    tab = context.new_page()
    yield tab
    context.close()
    assert not server_errors, f"the server failed: {server_errors}"
    assert not live.worker_errors, live.worker_errors[0]


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot at ``build/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


#: the accessibility basics, checked in the page: what is wrong, in words
_A11Y = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('<html> has no lang');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const labelled = (el.labels && el.labels.length > 0)
      || (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').trim();
    if (!labelled) {
      problems.push(`no label for <${el.tagName.toLowerCase()} name="${el.name}" id="${el.id}">`);
    }
  }
  for (const svg of document.querySelectorAll('svg[role="img"]')) {
    const title = svg.querySelector(':scope > title');
    if (!title || !title.textContent.trim()) problems.push('an <svg role="img"> without <title>');
  }
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} <h1> elements instead of one`);
  return problems;
}"""


def assert_accessible(page: Page) -> None:
    """Every form control labelled, every image-like SVG titled, exactly one ``<h1>``."""
    problems: list[str] = page.evaluate(_A11Y)
    assert not problems, f"{page.url}: {problems}"


def visited(page: Page, name: str) -> None:
    """What every test does on each page it sees: a screenshot, then the accessibility check."""
    shot(page, name)
    assert_accessible(page)


def log_in(page: Page, account: Account, name: str) -> None:
    """Log in through the login form (screenshot ``<name>``); ends on the page it sends to."""
    page.goto("/login")
    page.get_by_label("Nom d'utilisateur").fill(account.name)
    page.get_by_label("Mot de passe", exact=True).fill(account.password)
    visited(page, name)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/login" not in url)
