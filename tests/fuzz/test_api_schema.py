"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis), in-process, on SQLite and
PostgreSQL, with real data behind it: a campaign whose dev phase is open, two teams, an
organiser, systems, and scored submissions.

Every operation of ``/openapi.json`` gets valid requests (positive), invalid ones (negative),
and valid ones aimed at the real campaign, task and submissions, each sent anonymously, as a
participant or as the organiser. Checked on every answer: no server error (5xx), and the
content type and body the schema documents. Status codes are *not* checked against the schema:
FastAPI documents only 2xx and 422, while the API answers 400, 401, 403, 404 and 429 on purpose
(``web/errors.py``), each as JSON ``{code, message, hint}``, which is checked instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from tests.campaigns.conftest import EXAMPLE, db_url, join, open_campaign_file

from palmares.campaigns import add_user, create_campaign, run_one
from palmares.web import Settings, create_app

assert db_url  # the fixture, imported for its side effect: sqlite and postgresql
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 20


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, dict[str, Any]]]:
    """The app on a database holding real data, and the values that reach it."""
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    db = app.state.db
    create_campaign(db, open_campaign_file(tmp_path, quota=3))
    alice, bob = join(db, "alice", "lab-a"), join(db, "bob", "lab-b")
    organiser = add_user(db, "olga", "organiser")
    client = TestClient(app)
    baseline = (EXAMPLE / "baseline.jsonl").read_bytes()
    card = {"name": "baseline", "model_card": {"parameters": "0"}}
    assert client.post("/api/systems", json=card, headers=_auth(alice)).status_code == 201
    ids = []
    for token, split in ((alice, "hidden"), (alice, "public"), (bob, "hidden")):
        res = client.post(
            "/api/campaigns/1/tasks/avis-fr/submissions",
            files={"file": ("p.jsonl", baseline)},
            data={"split": split},
            headers=_auth(token),
        )
        assert res.status_code in (201, 400), res.text  # public split: only if the task has one
        if res.status_code == 201:
            ids.append(res.json()["id"])
    while run_one(db, app.state.artifacts) is not None:
        pass
    real = {
        "campaign_id": 1,
        "task_id": "avis-fr",
        "split": "test",
        "submission_id": ids[0],
        "token_id": 1,
        "tokens": [None, alice, organiser],
    }
    yield app, real
    client.close()


def _real_path_parameters(operation: Any, real: dict[str, Any]) -> dict[str, Any]:
    names = [p.name for p in operation.path_parameters]
    return {name: real[name] for name in names if name in real}


def _fuzz(operation: Any, tokens: list[str | None], fixed: dict[str, Any]) -> set[int]:
    """Fuzz one operation; the status codes it answered."""
    seen: set[int] = set()
    cases = st.one_of(
        operation.as_strategy(),
        operation.as_strategy(GenerationMode.NEGATIVE),
        operation.as_strategy(path_parameters=fixed) if fixed else operation.as_strategy(),
    )

    @settings(max_examples=EXAMPLES_PER_OPERATION)
    @given(case=cases, token=st.sampled_from(tokens))
    def call(case: Any, token: str | None) -> None:
        response = case.call(headers=_auth(token))
        case.validate_response(response, checks=CHECKS)  # raises on a 5xx, with a curl line
        seen.add(response.status_code)
        if response.status_code >= 400 and operation.path.startswith("/api"):
            body = json.loads(response.content)
            assert set(body) == {"code", "message", "hint"}, body

    call()
    return seen


def test_no_operation_answers_a_server_error(world: tuple[FastAPI, dict[str, Any]]) -> None:
    app, real = world
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    seen = {
        op.label: _fuzz(op, real["tokens"], _real_path_parameters(op, real)) for op in operations
    }
    # the fuzzing reached the real data, not only the error paths
    for label in (
        "GET /api/campaigns/{campaign_id}",
        "GET /api/campaigns/{campaign_id}/tasks/{task_id}/leaderboard",
        "GET /api/campaigns/{campaign_id}/tasks/{task_id}/data/{split}",
        "GET /api/submissions/{submission_id}",
    ):
        assert 200 in seen[label], seen
    assert all(max(codes) < 500 for codes in seen.values()), seen
