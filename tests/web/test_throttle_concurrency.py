"""Rate limits that concurrency cannot beat (#13), on a SQLite file and on PostgreSQL: many
simultaneous wrong logins for one name get at most the limit's password checks (counted at
argon2's ``verify``), through the service and through a real uvicorn; sign-ups are throttled
per address, a refused one writes nothing; the address limits count the visitor's address,
which ``X-Forwarded-For`` gives only from a trusted proxy."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import db_url  # noqa: F401 (fixture)

from palmares.campaigns import (
    Forbidden,
    accounts,
    add_user,
    log_in,
    set_password,
    sign_up,
    throttle,
)
from palmares.campaigns.throttle import TooManyAttempts, TooManySignUps
from palmares.store import LoginFailure, SignUp, Team, User
from palmares.web import Settings, create_app

PASSWORD = "correct horse battery"
LIMIT = throttle.PER_NAME_AT_ADDRESS


class CountingHasher:
    """The real hasher, counting its ``verify`` calls (thread-safe)."""

    def __init__(self, real: Any) -> None:
        self.real, self.verified, self._lock = real, 0, threading.Lock()

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))

    def verify(self, digest: str, password: str) -> bool:
        with self._lock:
            self.verified += 1
        return bool(self.real.verify(digest, password))


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(accounts._hasher())
    accounts._decoy()  # made with the real hasher, before counting starts
    monkeypatch.setattr(accounts, "_hasher", lambda: counting)
    return counting


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Any:  # noqa: F811
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    add_user(app.state.db, "alice", "participant", "lab-a")
    set_password(app.state.db, "alice", PASSWORD)
    return app


def _together(n: int, action: Callable[[int], str]) -> tuple[Counter[str], float]:
    """Run ``action(i)`` in ``n`` threads released at once; the outcomes and the wall time."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def one(i: int) -> None:
        barrier.wait()
        try:
            outcome = action(i)
        except Exception as exc:  # a failure of the test, kept to be shown
            outcome = f"error: {exc!r}"
        outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(outcomes), time.perf_counter() - start


def _count(db: sessionmaker[Session], table: type[Any]) -> int:
    with db() as s:
        return s.scalar(select(func.count()).select_from(table)) or 0


@pytest.mark.parametrize("n", [25, 100])
def test_concurrent_wrong_logins_get_at_most_the_limit_of_password_checks(
    app: Any, hasher: CountingHasher, n: int
) -> None:
    db = app.state.db

    def guess(i: int) -> str:
        try:
            log_in(db, "alice", f"guess number {i}", address="203.0.113.5")
        except TooManyAttempts:
            return "429"
        except Forbidden:
            return "401"
        return "200"

    outcomes, seconds = _together(n, guess)
    print(f"{db.kw['bind'].dialect.name} n={n}: {dict(outcomes)}, {hasher.verified} checks, "
          f"{seconds:.2f} s")  # fmt: skip
    assert outcomes == {
        "401": throttle.PER_NAME_AT_ADDRESS,
        "429": n - throttle.PER_NAME_AT_ADDRESS,
    }
    assert hasher.verified == throttle.PER_NAME_AT_ADDRESS
    assert _count(db, LoginFailure) == throttle.PER_NAME_AT_ADDRESS
    # the right password from another address still gets in (and is checked once more)
    assert log_in(db, "alice", PASSWORD, address="198.51.100.1").token


@dataclass
class Live:
    url: str
    app: Any


@pytest.fixture
def live(app: Any) -> Iterator[Live]:
    """The app behind a real uvicorn on a free port of 127.0.0.1 (the server's own defaults:
    its thread pool runs the routes, 40 at a time)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=False)
    server = uvicorn.Server(config)
    serving = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    serving.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert serving.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    serving.join(timeout=10)
    sock.close()


def _csrf_cookie(url: str) -> str:
    cookie = httpx.get(f"{url}/login").cookies.get("palmares_csrf")
    assert cookie
    return cookie


@pytest.mark.parametrize("n", [25, 100])
def test_concurrent_wrong_logins_over_http(live: Live, hasher: CountingHasher, n: int) -> None:
    csrf = _csrf_cookie(live.url)

    def guess(i: int) -> str:
        with httpx.Client(base_url=live.url, cookies={"palmares_csrf": csrf}, timeout=60) as c:
            res = c.post("/login", data={"name": "alice", "password": f"guess {i}", "csrf": csrf})
            if res.status_code == 429:
                assert 0 < int(res.headers["retry-after"]) <= throttle.WINDOW.total_seconds() + 1
            return str(res.status_code)

    outcomes, seconds = _together(n, guess)
    db = live.app.state.db
    print(f"HTTP {db.kw['bind'].dialect.name} n={n}: {dict(outcomes)}, {hasher.verified} "
          f"checks, {seconds:.2f} s")  # fmt: skip
    assert outcomes == {
        "401": throttle.PER_NAME_AT_ADDRESS,
        "429": n - throttle.PER_NAME_AT_ADDRESS,
    }
    assert hasher.verified == throttle.PER_NAME_AT_ADDRESS


def test_the_limits_by_name_and_by_address(app: Any) -> None:
    """Five failures lock a name at one address only; twenty from anywhere lock the name
    everywhere; thirty from one address lock that address, not the accounts behind it."""
    db = app.state.db
    now = datetime.now(UTC)
    for _ in range(throttle.PER_NAME_AT_ADDRESS):
        with pytest.raises(Forbidden, match="wrong name or password"):
            log_in(db, "alice", "not it at all", address="203.0.113.1", now=now)
    with pytest.raises(TooManyAttempts):
        log_in(db, "alice", PASSWORD, address="203.0.113.1", now=now)
    assert log_in(db, "alice", PASSWORD, address="198.51.100.1", now=now).token
    # distributed guessing: one failure from each of many addresses
    add_user(db, "bob", "participant", "lab-b")
    set_password(db, "bob", PASSWORD)
    for i in range(throttle.PER_NAME):
        with pytest.raises(Forbidden, match="wrong name or password"):
            log_in(db, "bob", "not it at all", address=f"192.0.2.{i}", now=now)
    with pytest.raises(TooManyAttempts):
        log_in(db, "bob", PASSWORD, address="198.51.100.77", now=now)
    # spraying from one address: that address is refused, alice elsewhere is not
    for i in range(throttle.PER_ADDRESS):
        with pytest.raises(Forbidden, match="wrong name or password"):
            log_in(db, f"user{i}", "guess-guess", address="203.0.113.99", now=now)
    with pytest.raises(TooManyAttempts):
        log_in(db, "alice", PASSWORD, address="203.0.113.99", now=now)
    assert log_in(db, "alice", PASSWORD, address="198.51.100.2", now=now).token


def _signup_form(web: TestClient, name: str, team: str) -> Any:
    page = web.get("/signup")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    form = {"name": name, "team": team, "password": PASSWORD, "csrf": found.group(1)}
    return web.post("/signup", data=form, follow_redirects=False)


def test_signing_up_in_a_loop_from_one_address_hits_the_throttle(app: Any) -> None:
    db = app.state.db
    limit = app.state.settings.signup_per_hour
    assert limit == throttle.SIGNUPS_PER_HOUR
    web = TestClient(app)
    assert _signup_form(web, "premiere", "equipe-1").status_code == 303
    web.cookies.clear()
    taken = _signup_form(web, "alice", "equipe-2")  # a taken name: refused, and counted
    assert taken.status_code == 400 and "déjà pris" in taken.text  # the page is French
    made = 1
    while True:
        web.cookies.clear()
        res = _signup_form(web, f"compte{made}", f"equipe-x{made}")
        if res.status_code != 303:
            break
        made += 1
    assert made + 1 == limit  # the taken name used one of the hour's attempts
    assert res.status_code == 429 and "trop de créations de compte" in res.text
    assert 0 < int(res.headers["retry-after"]) <= 3601
    with db() as s:
        assert s.scalar(select(func.count()).select_from(SignUp)) == limit
        assert s.scalar(select(func.count()).where(User.name.like("compte%"))) == limit - 2
        assert s.scalar(select(User.id).where(User.name == f"compte{made}")) is None
    # another address may still sign up
    other = TestClient(app, client=("198.51.100.20", 40000))
    assert _signup_form(other, "ailleurs", "equipe-ailleurs").status_code == 303


def test_concurrent_sign_ups_from_one_address(app: Any, hasher: CountingHasher) -> None:
    db = app.state.db

    def attempt(i: int) -> str:
        try:
            sign_up(db, f"participant{i}", PASSWORD, f"team{i}", address="203.0.113.50")
        except TooManySignUps:
            return "429"
        return "created"

    outcomes, seconds = _together(20, attempt)
    print(f"{db.kw['bind'].dialect.name} 20 sign-ups: {dict(outcomes)}, {seconds:.2f} s")
    limit = throttle.SIGNUPS_PER_HOUR
    assert outcomes == {"created": limit, "429": 20 - limit}
    with db() as s:
        assert s.scalar(select(func.count()).where(User.name.like("participant%"))) == limit
        assert s.scalar(select(func.count()).select_from(SignUp)) == limit


def test_sign_up_during_a_login_lockout_writes_nothing(app: Any) -> None:
    db = app.state.db
    now = datetime.now(UTC)
    for i in range(throttle.PER_ADDRESS):
        with pytest.raises(Forbidden):
            log_in(db, f"user{i}", "guess-guess", address="testclient", now=now)
    before = {table: _count(db, table) for table in (User, Team, SignUp)}
    web = TestClient(app)
    res = _signup_form(web, "nouvelle", "equipe-nouvelle")
    assert res.status_code == 429 and "trop de connexions échouées" in res.text
    assert "retry-after" in res.headers and "palmares_session" not in res.cookies
    assert {table: _count(db, table) for table in (User, Team, SignUp)} == before


def _login_as(web: TestClient, password: str, forwarded: str | None = None) -> int:
    page = web.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    form = {"name": "alice", "password": password, "csrf": found.group(1)}
    return web.post("/login", data=form, headers=headers, follow_redirects=False).status_code


def test_x_forwarded_for_is_honoured_only_from_a_trusted_proxy(app: Any) -> None:
    db = app.state.db
    # no trusted proxy: a client sending the header does not choose its address
    direct = TestClient(app, client=("203.0.113.66", 5000))
    for i in range(throttle.PER_NAME_AT_ADDRESS):
        assert _login_as(direct, "wrong-wrong", forwarded=f"192.0.2.{i}") == 401
    assert _login_as(direct, "wrong-wrong", forwarded="192.0.2.200") == 429
    with db() as s:
        addresses = set(s.scalars(select(LoginFailure.address)))
    assert addresses == {"203.0.113.66"}
    # behind trusted proxies: the last hop not a trusted proxy is the visitor
    app.state.settings.trusted_proxies = ["10.0.0.0/24", "::1"]
    proxy = TestClient(app, client=("10.0.0.2", 5000))
    for _ in range(throttle.PER_NAME_AT_ADDRESS):  # a spoofed first hop changes nothing
        assert _login_as(proxy, "wrong-wrong", forwarded="6.6.6.6, 198.51.100.3") == 401
    assert _login_as(proxy, "wrong-wrong", forwarded="7.7.7.7, 198.51.100.3") == 429
    assert _login_as(proxy, PASSWORD, forwarded="198.51.100.3, 10.0.0.7") == 429  # two proxies
    assert _login_as(proxy, PASSWORD, forwarded="198.51.100.4") == 303  # another visitor
    with db() as s:
        addresses = set(s.scalars(select(LoginFailure.address)))
    assert addresses == {"203.0.113.66", "198.51.100.3"}
    # an untrusted peer still cannot use the header, trusted proxies or not
    assert _login_as(direct, PASSWORD, forwarded="198.51.100.4") == 429


def test_client_address() -> None:
    from starlette.requests import Request

    from palmares.web.deps import client_address

    def address(peer: str, trusted: list[str], *forwarded: str) -> str:
        class State:
            settings = Settings(trusted_proxies=trusted)

        class App:
            state = State()

        headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
        scope = {"type": "http", "client": (peer, 1), "headers": headers, "app": App()}
        return client_address(Request(scope))

    assert address("203.0.113.1", [], "1.2.3.4") == "203.0.113.1"
    assert address("203.0.113.1", ["10.0.0.1"], "1.2.3.4") == "203.0.113.1"
    assert address("10.0.0.1", ["10.0.0.1"], "1.2.3.4") == "1.2.3.4"
    assert address("10.0.0.1", ["10.0.0.1"], "9.9.9.9, 1.2.3.4") == "1.2.3.4"
    assert address("10.0.0.1", ["10.0.0.0/8"], "1.2.3.4", "10.0.0.5") == "1.2.3.4"  # 2 headers
    assert address("10.0.0.1", ["10.0.0.0/8"], "10.0.0.9") == "10.0.0.9"  # all proxies
    assert address("10.0.0.1", ["10.0.0.1"]) == "10.0.0.1"  # no header
    assert address("::1", ["::1"], "2001:db8::7") == "2001:db8::7"


def test_serve_takes_trusted_proxies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import palmares.cli._campaign  # noqa: F401  (registers the serve command)
    from palmares.cli import cli

    seen: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:
        seen.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.delenv("PALMARES_TRUSTED_PROXIES", raising=False)
    db = f"sqlite:///{tmp_path / 'palmares.db'}"
    res = CliRunner().invoke(
        cli, ["serve", "--db", db, "--workers", "0", "--trusted-proxies", "10.0.0.1, 10.1.0.0/16"]
    )
    monkeypatch.delenv("PALMARES_TRUSTED_PROXIES", raising=False)
    assert res.exit_code == 0, res.output
    assert seen["app"].state.settings.trusted_proxies == ["10.0.0.1", "10.1.0.0/16"]
    assert seen["proxy_headers"] is False  # uvicorn itself never rewrites the client address
