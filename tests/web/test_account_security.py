"""Accounts (#8), on real databases: login rate-limited by name and by address (refused before
any password is checked, with Retry-After), tokens revocable by their owner and by an
administrator, endpoint credentials sealed at rest and opened only by the worker."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.campaigns.conftest import db_url, join, open_campaign_file  # noqa: F401 (fixture)

from palmares.campaigns import Forbidden, add_user, create_campaign, log_in, set_password, throttle
from palmares.campaigns.credentials import KEY_ENV, KEY_FILE, CredentialError, Vault
from palmares.campaigns.throttle import TooManyAttempts
from palmares.store import LoginFailure, Token
from palmares.web import Settings, create_app

PASSWORD = "correct horse battery"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture
def web(db_url: str, tmp_path: Path) -> TestClient:  # noqa: F811
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    create_campaign(app.state.db, open_campaign_file(tmp_path))
    add_user(app.state.db, "alice", "participant", "lab-a")
    set_password(app.state.db, "alice", PASSWORD)
    return TestClient(app)


def _post_login(web: TestClient, name: str, password: str) -> tuple[int, str, str | None]:
    page = web.get("/login")
    res = web.post(
        "/login",
        data={"name": name, "password": password, "csrf": _csrf(page.text), "next": "/"},
        follow_redirects=False,
    )
    return res.status_code, res.text, res.headers.get("retry-after")


def test_login_is_rate_limited_by_name_then_released(web: TestClient) -> None:
    db = web.app.state.db  # type: ignore[attr-defined]
    for _ in range(throttle.PER_NAME_AT_ADDRESS):
        assert _post_login(web, "alice", "wrong password!")[0] == 401
    status, body, retry = _post_login(web, "alice", PASSWORD)  # even the right one, for now
    assert status == 429 and "trop de connexions échouées" in body  # the page is French
    assert retry is not None and 0 < int(retry) <= throttle.WINDOW.total_seconds() + 1
    # a guess at an unknown name is counted the same way (nothing tells the names apart)
    for _ in range(throttle.PER_NAME_AT_ADDRESS):
        assert _post_login(web, "nobody", "whatever123")[0] == 401
    assert _post_login(web, "nobody", "whatever123")[0] == 429
    # the right password clears the name's failures at this address only: a later success
    # from the test client's address forgets alice's there, not those from elsewhere
    soon = datetime.now(UTC) + timedelta(seconds=1)
    with pytest.raises(Forbidden, match="wrong name or password"):
        log_in(db, "alice", "wrong again!", address="198.51.100.9", now=soon)
    # once the window has passed, the right password works and clears the name's failures
    later = datetime.now(UTC) + throttle.WINDOW + timedelta(seconds=0.5)
    made = log_in(db, "alice", PASSWORD, address="testclient", now=later)
    assert made.token
    with db() as s:
        count = select(func.count()).select_from(LoginFailure)
        assert s.scalar(count.where(LoginFailure.name == "alice")) == 1  # 198.51.100.9's
        assert s.scalar(count.where(LoginFailure.name == "nobody")) == 0  # pruned: expired


def test_login_is_rate_limited_by_address(web: TestClient) -> None:
    """Spraying many names from one address: refused past the address's limit."""
    db = web.app.state.db  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    for i in range(throttle.PER_ADDRESS):
        with pytest.raises(Exception, match="wrong name or password"):
            log_in(db, f"user{i}", "guess-guess", address="203.0.113.7", now=now)
    with pytest.raises(TooManyAttempts):
        log_in(db, "alice", PASSWORD, address="203.0.113.7", now=now)
    assert log_in(db, "alice", PASSWORD, address="198.51.100.1", now=now).token  # another one


def test_tokens_are_listed_issued_and_revoked(web: TestClient) -> None:
    db = web.app.state.db  # type: ignore[attr-defined]
    first = join(db, "bob", "lab-b")
    auth = {"Authorization": f"Bearer {first}"}
    made = web.post("/api/tokens", headers=auth)
    assert made.status_code == 201
    second = made.json()["token"]
    listed = web.get("/api/tokens", headers=auth).json()["tokens"]
    assert len(listed) == 2 and {t["kind"] for t in listed} == {"api"}
    with db() as s:
        digests = list(s.scalars(select(Token.digest)))
    for digest in digests:  # neither the text nor its hash is ever returned
        assert digest not in str(listed)
    assert first not in str(listed) and second not in str(listed)
    # revoke the first from the second: the very next request with it is refused
    first_id = min(t["id"] for t in listed)
    assert web.delete(f"/api/tokens/{first_id}", headers={"Authorization": f"Bearer {second}"})\
        .status_code == 204  # fmt: skip
    assert web.get("/api/tokens", headers=auth).status_code == 401
    # someone else's token cannot be revoked (and is not told apart from a missing one)
    alice = add_user(db, "alice2", "participant", "lab-c")
    with db() as s:
        theirs = s.scalar(select(Token.id).order_by(Token.id.desc()))
    res = web.delete(f"/api/tokens/{theirs}", headers={"Authorization": f"Bearer {second}"})
    assert res.status_code == 404
    assert web.get("/api/tokens", headers={"Authorization": f"Bearer {alice}"}).status_code == 200


def test_an_administrator_revokes_every_token_and_session_of_a_user(
    web: TestClient, tmp_path: Path
) -> None:
    import palmares.cli._campaign  # noqa: F401  (registers the users commands)
    from palmares.cli import cli

    db = web.app.state.db  # type: ignore[attr-defined]
    settings: Settings = web.app.state.settings  # type: ignore[attr-defined]
    token = join(db, "carol", "lab-d")
    set_password(db, "carol", PASSWORD)
    status, _, _ = _post_login(web, "carol", PASSWORD)
    assert status == 303 and "carol" in web.get("/").text
    runner = CliRunner()
    res = runner.invoke(cli, ["users", "revoke", "carol", "--db", settings.db])
    assert res.exit_code == 0 and "revoked 2" in res.output, res.output
    assert web.get("/api/tokens", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "carol" not in web.get("/").text  # the browser session is gone too
    res = runner.invoke(cli, ["users", "token", "carol", "--db", settings.db])
    assert res.exit_code == 0
    fresh = res.output.strip()
    assert web.get("/api/tokens", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    res = runner.invoke(cli, ["users", "revoke", "nobody", "--db", settings.db])
    assert res.exit_code == 2 and "no user 'nobody'" in res.output


def test_sealed_credentials_open_with_their_key_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key file is made once, mode 0600; a value sealed with it opens with it, and with
    another deployment's key fails with a clear error (never the ciphertext). The worker's use,
    on a real endpoint that refuses requests without the key, is in test_model_submissions."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    root = tmp_path / "artifacts"
    sealed = Vault.for_artifacts(root).seal("sk-4242")
    assert sealed.startswith("fernet:") and "sk-4242" not in sealed
    assert stat.S_IMODE(os.stat(root / KEY_FILE).st_mode) == 0o600
    assert Vault.for_artifacts(root).open(sealed) == "sk-4242"
    assert Vault.for_artifacts(root).open("sk-legacy") == "sk-legacy"  # stored before sealing
    monkeypatch.setenv(KEY_ENV, "x" * 43 + "=")
    with pytest.raises(CredentialError, match="cannot be decrypted") as caught:
        Vault.for_artifacts(root).open(sealed)
    assert sealed not in str(caught.value)


def test_two_processes_making_the_key_at_once_agree(tmp_path: Path) -> None:
    import concurrent.futures

    with concurrent.futures.ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(_make_key, [str(tmp_path)] * 8))
    assert len(keys) == 1


def _make_key(root: str) -> str:
    vault = Vault.for_artifacts(root)
    return vault.open(vault.seal("secret")) + (Path(root) / KEY_FILE).read_text()
