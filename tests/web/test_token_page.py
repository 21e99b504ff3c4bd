"""The API tokens page (issue #14): list (number and dates, never the text), create (the text
shown once, with curl examples on this server's address), revoke; the created token works with
the API until it is revoked, then gets 401; nobody revokes another's token."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.campaigns.conftest import db_url, join, open_campaign_file  # noqa: F401

from palmares.campaigns import add_user, create_campaign, log_in, set_password
from palmares.web import Settings, create_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _client(app: object, name: str) -> TestClient:
    db = app.state.db  # type: ignore[attr-defined]
    set_password(db, name, PASSWORD)
    return TestClient(app, cookies={"palmares_session": log_in(db, name, PASSWORD).token})  # type: ignore[arg-type]


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None
    return found.group(1)


def test_create_list_use_and_revoke_a_token(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    db = app.state.db
    create_campaign(db, open_campaign_file(tmp_path))
    first = join(db, "alice", "lab-a")  # an API token of ``palmares users add``
    add_user(db, "bob", "participant", team="lab-b")
    alice, bob = _client(app, "alice"), _client(app, "bob")
    assert TestClient(app).get("/account/tokens", follow_redirects=False).status_code == 303

    page = alice.get("/account/tokens")
    assert page.status_code == 200 and "n° " in page.text and first not in page.text
    assert '<a href="/account/tokens">Jetons d&#39;API</a>' in page.text  # the header's link
    assert alice.post("/account/tokens").status_code == 403  # no CSRF token: nothing made
    made = alice.post("/account/tokens", data={"csrf": _csrf(page.text)})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = re.search(r'value="(plm_[^"]+)"', made.text)
    assert secret is not None
    token = secret.group(1)
    data_url = "http://testserver/api/campaigns/1/tasks/avis-fr/data/test"
    assert f'curl -H "Authorization: Bearer {token}" -o avis-fr-test.jsonl {data_url}' in made.text
    assert (
        "-F file=@predictions.jsonl http://testserver/api/campaigns/1/tasks/avis-fr/submissions"
        in made.text
    )

    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    inputs = api.get("/api/campaigns/1/tasks/avis-fr/data/test")
    assert inputs.status_code == 200 and '"inputs"' in inputs.text
    listed = api.get("/api/tokens").json()["tokens"]
    mine = [t["id"] for t in listed if t["kind"] == "api"][1:]  # the new one
    assert len(mine) == 1
    again = alice.get("/account/tokens")
    assert token not in again.text  # shown once
    assert f"n° {mine[0]}" in again.text and "Révoquer" in again.text

    # another user cannot revoke it: not found among theirs, and it still works
    other = bob.post(
        "/account/tokens/revoke",
        data={"csrf": _csrf(bob.get("/account/tokens").text), "token_id": str(mine[0])},
    )
    assert other.status_code == 404
    assert api.get("/api/tokens").status_code == 200
    gone = alice.post(
        "/account/tokens/revoke",
        data={"csrf": _csrf(again.text), "token_id": str(mine[0])},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert gone.headers["location"] == f"/account/tokens?revoked={mine[0]}"
    after = html.unescape(alice.get(gone.headers["location"]).text)
    assert "Jeton révoqué" in after and f"n° {mine[0]}</th>" not in after
    assert api.get("/api/campaigns/1/tasks/avis-fr/data/test").status_code == 401
    assert api.get("/api/tokens").status_code == 401
    assert alice.get("/account/tokens").status_code == 200  # the browser session is untouched
    assert (
        TestClient(app, headers={"Authorization": f"Bearer {first}"}).get("/api/tokens").status_code
        == 200
    )  # and so is the other token
