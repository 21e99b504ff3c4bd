"""The HTTP API in-process (FastAPI's TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.campaigns.conftest import EXAMPLE, campaign_for_task, join, open_campaign_file

from palmares.campaigns import add_user, create_campaign, run_one
from palmares.web import Settings, create_app


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> TestClient:
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    create_campaign(app.state.db, open_campaign_file(tmp_path, quota=2))
    return TestClient(app)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _upload(api: TestClient, token: str, path: Path, name: str | None = None, **data: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return api.post(
            "/api/campaigns/1/tasks/avis-fr/submissions",
            files={"file": (name or path.name, fh)},
            data=data,
            headers=_auth(token),
        )


def test_participant_flow_errors_and_isolation(api: TestClient, tmp_path: Path) -> None:
    db = api.app.state.db  # type: ignore[attr-defined]
    alice = join(db, "alice", "lab-a")
    bob = join(db, "bob", "lab-b")
    orga = add_user(db, "olga", "organiser")
    assert api.get("/healthz").json() == {"status": "ok", "database": "ok"}
    listed = api.get("/api/campaigns").json()["items"]
    assert listed[0]["tasks"][0]["id"] == "avis-fr" and listed[0]["phases"][0]["kind"] == "dev"

    bad = tmp_path / "bad.jsonl"
    first = (EXAMPLE / "baseline.jsonl").read_text("utf-8").splitlines()[0]
    bad.write_text(f"{first}\n{first}\n", "utf-8")
    res = _upload(api, alice, bad, "mine.jsonl")
    assert res.status_code == 400
    body = res.json()
    assert body["code"] == "invalid_input" and body["message"].startswith("mine.jsonl:2: ")
    assert "duplicate id" in body["message"] and str(tmp_path) not in body["message"]

    card = {"name": "baseline", "model_card": {"parameters": "0", "open_weights": True}}
    assert api.post("/api/systems", json=card, headers=_auth(alice)).status_code == 201
    res = _upload(api, alice, EXAMPLE / "baseline.jsonl", system="nope")
    assert res.status_code == 400 and "no system named 'nope'" in res.json()["message"]
    res = _upload(api, alice, EXAMPLE / "baseline.jsonl", system="baseline")
    assert res.status_code == 201, res.text
    sid = res.json()["id"]
    assert _upload(api, alice, EXAMPLE / "baseline.jsonl").status_code == 201
    res = _upload(api, alice, EXAMPLE / "baseline.jsonl")
    assert res.status_code == 429 and res.json()["code"] == "quota_exceeded"  # quota 2

    assert api.get(f"/api/submissions/{sid}").status_code == 401
    assert api.get(f"/api/submissions/{sid}", headers=_auth(bob)).status_code == 404
    assert api.get("/api/submissions", headers=_auth(bob)).json()["items"] == []
    while run_one(db, api.app.state.artifacts) is not None:  # type: ignore[attr-defined]
        pass
    mine = api.get(f"/api/submissions/{sid}", headers=_auth(alice)).json()
    assert mine["status"] == "scored" and mine["feedback"] == "full"
    accuracy = mine["scores"]["accuracy"]
    assert accuracy["ci"][0] <= accuracy["value"] <= accuracy["ci"][1]

    board = api.get("/api/campaigns/1/tasks/avis-fr/leaderboard?phase=dev").json()
    assert [r["team"] for r in board["rows"]] == ["lab-a"] and board["rows"][0]["ci"]
    private = "/api/campaigns/1/tasks/avis-fr/leaderboard?phase=dev&part=private"
    assert api.get(private).status_code == 403
    assert api.get(private, headers=_auth(alice)).status_code == 403
    assert api.get(private, headers=_auth(orga)).status_code == 200
    assert api.get("/api/campaigns/9").json()["code"] == "not_found"
    schema = api.get("/openapi.json").json()
    assert "/api/campaigns/{campaign_id}/tasks/{task_id}/submissions" in schema["paths"]


def test_public_split_submission_shows_items_and_is_never_ranked(
    db_url: str, tmp_path: Path
) -> None:
    """Per-item results exist for the public split only (its references are public)."""
    import json

    rows = [{"id": f"q{i}", "question": f"Q{i}", "answer": f"r{i}"} for i in range(6)]
    for split in ("dev", "test"):
        (tmp_path / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "task.yaml").write_text(
        "id: qa\nversion: 1\ntitle: QA\nlanguage: fr\nlicense: CC0-1.0\n"
        "dataset: {splits: {dev: dev.jsonl, test: test.jsonl}, format: jsonl, id_field: id,"
        " input_fields: [question], reference_field: answer}\nmetrics: [exact_match]\n",
        "utf-8",
    )
    campaign = campaign_for_task(tmp_path, public_split="dev")
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    create_campaign(app.state.db, campaign)
    token = join(app.state.db, "alice", "lab-a")
    api = TestClient(app)
    preds = "".join(
        json.dumps({"id": r["id"], "prediction": r["answer"] if r["id"] < "q3" else "x"}) + "\n"
        for r in rows
    )
    url = "/api/campaigns/1/tasks/qa/submissions"
    public = api.post(
        url, data={"split": "public"}, files={"file": ("p.jsonl", preds)}, headers=_auth(token)
    )
    hidden = api.post(url, files={"file": ("p.jsonl", preds)}, headers=_auth(token))
    assert public.status_code == hidden.status_code == 201
    while run_one(app.state.db, app.state.artifacts) is not None:  # type: ignore[attr-defined]
        pass
    items = api.get(f"/api/submissions/{public.json()['id']}/items", headers=_auth(token)).json()
    assert [i["scores"]["exact_match"] for i in items["items"]] == [1, 1, 1, 0, 0, 0]
    assert (
        api.get(f"/api/submissions/{hidden.json()['id']}/items", headers=_auth(token)).status_code
        == 404
    )
    board = api.get("/api/campaigns/1/tasks/qa/leaderboard?phase=dev").json()["rows"]
    assert [r["submission"] for r in board] == [hidden.json()["id"]]


def test_uploads_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a"), max_upload_mb=0
        )
    )
    create_campaign(app.state.db, open_campaign_file(tmp_path))
    token = join(app.state.db, "alice", "lab-a")
    res = _upload(TestClient(app), token, EXAMPLE / "baseline.jsonl")
    assert res.status_code == 413 and "larger than 0 MB" in res.json()["message"]
    assert not (tmp_path / "a").exists()  # nothing stored
