"""Authorisation matrix: every route × {anonymous, participant A, participant B, organiser,
auditor}; and a full participant crawl never shows a hidden reference (canary strings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.campaigns.conftest import campaign_for_task

from palmares.campaigns import add_user, create_campaign, register, run_one
from palmares.web import Settings, create_app

CANARY = "CANARY-9f2c41"

TASK = """
id: canary-qa
version: 1
title: Canary QA
language: fr
license: CC0-1.0
dataset:
  splits: {dev: dev.jsonl, test: test.jsonl}
  format: jsonl
  id_field: id
  input_fields: [question]
  reference_field: answer
metrics: [exact_match, token_f1]
"""


def _setup(db_url: str, tmp_path: Path) -> tuple[TestClient, dict[str, str | None], str]:
    rows = [
        {"id": f"q{i}", "question": f"Question {i} ?", "answer": f"{CANARY}-{i}"} for i in range(30)
    ]
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    dev = [
        {"id": f"d{i}", "question": f"Exemple {i} ?", "answer": f"réponse {i}"} for i in range(5)
    ]
    (tmp_path / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dev), "utf-8")
    (tmp_path / "task.yaml").write_text(TASK, "utf-8")
    campaign = campaign_for_task(tmp_path, public_split="dev", quota=20)
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    db = app.state.db
    create_campaign(db, campaign)
    who: dict[str, str | None] = {"anonymous": None}
    who["A"] = add_user(db, "alice", "participant", team="lab-a")
    who["B"] = add_user(db, "bob", "participant", team="lab-b")
    who["organiser"] = add_user(db, "olga", "organiser")
    who["auditor"] = add_user(db, "audrey", "auditor")
    register(db, who["A"] or "", 1, True)
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        "".join(json.dumps({"id": r["id"], "prediction": "je ne sais pas"}) + "\n" for r in rows)
    )
    client = TestClient(app)
    res = client.post(
        "/api/campaigns/1/tasks/canary-qa/submissions",
        files={"file": ("preds.jsonl", preds.read_bytes())},
        headers={"Authorization": f"Bearer {who['A']}"},
    )
    assert res.status_code == 201, res.text
    while run_one(db, app.state.artifacts) is not None:
        pass
    return client, who, res.json()["id"]


# route → expected status per caller (A is registered, B is not)
def _matrix(sid: str) -> list[tuple[str, str, dict[str, int], dict[str, Any] | None]]:
    everyone = dict.fromkeys(["anonymous", "A", "B", "organiser", "auditor"], 200)
    return [
        ("GET", "/healthz", everyone, None),
        ("GET", "/api/campaigns", everyone, None),
        ("GET", "/api/campaigns/1", everyone, None),
        ("GET", "/api/campaigns/1/tasks/canary-qa/leaderboard?phase=dev", everyone, None),
        ("GET", "/api/campaigns/1/tasks/canary-qa/leaderboard?phase=dev&part=private",
         {"anonymous": 403, "A": 403, "B": 403, "organiser": 200, "auditor": 200}, None),
        ("GET", "/api/campaigns/1/tasks/canary-qa/snapshots", everyone, None),
        ("GET", "/api/campaigns/1/tasks/canary-qa/progress",  # running, and no anchors anyway
         {"anonymous": 403, "A": 403, "B": 403, "organiser": 404, "auditor": 404}, None),
        ("GET", "/api/campaigns/1/tasks/canary-qa/data/dev", everyone, None),
        ("GET", "/api/campaigns/1/tasks/canary-qa/data/test",
         {"anonymous": 401, "A": 200, "B": 403, "organiser": 200, "auditor": 200}, None),
        ("GET", "/api/submissions",
         {"anonymous": 401, "A": 200, "B": 200, "organiser": 200, "auditor": 200}, None),
        ("GET", f"/api/submissions/{sid}",
         {"anonymous": 401, "A": 200, "B": 404, "organiser": 200, "auditor": 200}, None),
        ("GET", f"/api/submissions/{sid}/items",  # hidden split: no per-item results, for anyone
         {"anonymous": 401, "A": 404, "B": 404, "organiser": 404, "auditor": 404}, None),
        ("GET", "/api/systems",
         {"anonymous": 401, "A": 200, "B": 200, "organiser": 200, "auditor": 200}, None),
        ("POST", "/api/systems",
         {"anonymous": 401, "A": 201, "B": 201, "organiser": 403, "auditor": 403},
         {"json": {"name": "sys", "model_card": {"parameters": "270M"}}}),
        ("GET", "/api/campaigns/1/registration",  # the caller's team's (B has none)
         {"anonymous": 401, "A": 200, "B": 200, "organiser": 403, "auditor": 403}, None),
        ("POST", "/api/campaigns/1/registration",
         {"anonymous": 401, "A": 201, "B": 201, "organiser": 403, "auditor": 403},
         {"json": {"accept_rules": True}}),
        ("POST", "/api/campaigns/1/tasks/canary-qa/submissions",
         {"anonymous": 401, "A": 201, "B": 201, "organiser": 403, "auditor": 403}, "FILE"),
        # one's own tokens only: listing, issuing, revoking
        ("GET", "/api/tokens",
         {"anonymous": 401, "A": 200, "B": 200, "organiser": 200, "auditor": 200}, None),
        ("POST", "/api/tokens",
         {"anonymous": 401, "A": 201, "B": 201, "organiser": 201, "auditor": 201}, None),
        ("DELETE", "/api/tokens/999999",  # nobody's (another's: test_account_security)
         {"anonymous": 401, "A": 404, "B": 404, "organiser": 404, "auditor": 404}, None),
    ]  # fmt: skip


def test_every_route_for_every_caller(db_url: str, tmp_path: Path) -> None:
    client, who, sid = _setup(db_url, tmp_path)
    matrix = _matrix(sid)
    covered = {(m, p.split("?")[0].replace(sid, "{submission_id}")) for m, p, _, _ in matrix}
    # every operation of the API, from its OpenAPI schema (app.routes nests included routers)
    operations = client.get("/openapi.json").json()["paths"]
    assert len(operations) >= 13
    for template, methods in operations.items():
        for method in methods:
            path = template.replace("{campaign_id}", "1").replace("{task_id}", "canary-qa")
            path = path.replace("{split}", "dev").replace("{token_id}", "999999")
            assert (method.upper(), path) in covered, (
                f"{method.upper()} {template} is missing from the authorisation matrix"
            )
    bodies = []
    for method, path, expected, extra in matrix:
        for caller, status in expected.items():
            headers = {} if who[caller] is None else {"Authorization": f"Bearer {who[caller]}"}
            kwargs: dict[str, Any] = {}
            if extra == "FILE":
                line = json.dumps(
                    {"id": "q0", "prediction": CANARY}
                )  # a canary in a prediction is fine
                rows = [{"id": f"q{i}", "prediction": "x"} for i in range(30)]
                kwargs["files"] = {"file": ("p.jsonl", "".join(json.dumps(r) + "\n" for r in rows))}
                del line
            elif extra is not None:
                kwargs.update(extra)
            if caller == "B" and "submissions" in path and method == "POST":
                client.post(
                    "/api/campaigns/1/registration", json={"accept_rules": True}, headers=headers
                )
            res = client.request(method, path, headers=headers, **kwargs)
            assert res.status_code == status, (method, path, caller, res.status_code, res.text)
            if caller in ("anonymous", "A", "B"):
                bodies.append(res.text)
            if res.status_code >= 400:
                assert set(res.json()) == {"code", "message", "hint"}
    crawl = "\n".join(bodies)
    assert CANARY not in crawl, "a hidden reference reached a participant"


def test_invalid_submissions_never_quote_references(db_url: str, tmp_path: Path) -> None:
    client, who, _ = _setup(db_url, tmp_path)
    headers = {"Authorization": f"Bearer {who['A']}"}
    bad_files = [
        '{"id": "q0", "prediction": 3}\n',
        '{"id": "q0"}\n',
        '{"id": "nope", "prediction": "x"}\n',
        "not json\n",
        '{"id": "q0", "prediction": "x"}\n' * 2,
    ]
    for text in bad_files:
        res = client.post(
            "/api/campaigns/1/tasks/canary-qa/submissions",
            files={"file": ("p.jsonl", text)},
            headers=headers,
        )
        assert res.status_code == 400 and CANARY not in res.text, res.text
