"""Submissions of models: a GGUF file the worker runs itself, and a team's OpenAI-compatible
endpoint (llama-cpp-python's real server on SmolLM2). The endpoint's key never comes back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from tests.campaigns.conftest import campaign_for_task, join, pin_partition_seed

from palmares.campaigns import run_one
from palmares.store import Submission
from palmares.testing import smollm2_gguf
from palmares.web import Settings, create_app

pytest.importorskip("llama_cpp", reason='needs pip install "palmares[dev]"')
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from _servers import llama_server

TASK = """
id: qa-chat
version: 1
title: Questions
language: fr
license: CC0-1.0
dataset:
  splits: {dev: dev.jsonl, test: test.jsonl}
  format: jsonl
  id_field: id
  reference_field: a
protocol:
  type: chat
  template: "{{ q }} Réponds en un mot."
  max_tokens: 8
metrics: [exact_match, token_f1]
"""
KEY = "sk-secret-do-not-leak-7731"


def test_model_file_and_endpoint_submissions(db_url: str, tmp_path: Path) -> None:
    rows = [
        {"id": "1", "q": "Quelle est la capitale de la France ?", "a": "Paris"},
        {"id": "2", "q": "De quelle couleur est le ciel ?", "a": "bleu"},
        {"id": "3", "q": "Combien font deux plus deux ?", "a": "quatre"},
    ]
    for split in ("dev", "test"):
        (tmp_path / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "task.yaml").write_text(TASK, "utf-8")
    campaign = campaign_for_task(
        tmp_path, public_split="dev", accepts=("predictions", "endpoint", "model_file")
    )
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "a")))
    from palmares.campaigns import create_campaign

    # a fixed partition: with 3 hidden items, a random one may leave the public part empty
    pin_partition_seed(app.state.db, create_campaign(app.state.db, campaign), "qa-chat")
    token = join(app.state.db, "alice", "lab-a")
    api = TestClient(app)
    auth = {"Authorization": f"Bearer {token}"}
    url = "/api/campaigns/1/tasks/qa-chat/submissions"
    not_gguf = api.post(
        url, data={"kind": "model_file"}, files={"file": ("m.gguf", b"nope")}, headers=auth
    )
    assert not_gguf.status_code == 400 and "GGUF" in not_gguf.json()["message"]
    with smollm2_gguf().open("rb") as fh:
        res = api.post(
            url, data={"kind": "model_file"}, files={"file": ("smol.gguf", fh)}, headers=auth
        )
    assert res.status_code == 201, res.text
    model_sid = res.json()["id"]
    with llama_server(smollm2_gguf(), api_key=KEY) as base:  # it refuses requests without KEY
        res = api.post(
            url,
            data={"kind": "endpoint", "url": base, "model": "smol", "api_key": KEY},
            headers=auth,
        )
        assert res.status_code == 201, res.text
        endpoint_sid = res.json()["id"]
        while run_one(app.state.db, app.state.artifacts) is not None:
            pass
    for sid in (model_sid, endpoint_sid):
        view = api.get(f"/api/submissions/{sid}", headers=auth)
        assert view.status_code == 200 and view.json()["status"] == "scored", view.text
        scores = view.json()["scores"]
        assert 0 <= scores["token_f1"]["value"] <= 1 and scores["token_f1"]["n"] >= 1
        assert KEY not in view.text
    listing = api.get("/api/submissions", headers=auth).text
    assert KEY not in listing and '"kind":"endpoint"' in listing.replace(" ", "")
    # the key is sealed at rest (the worker opened it to score): no row holds it in clear
    with app.state.db() as s:
        stored = s.scalar(select(Submission.secret).where(Submission.id == endpoint_sid))
        dump = " ".join(str(row) for row in s.execute(text("SELECT * FROM submissions")).all())
    assert stored is not None and stored.startswith("fernet:") and KEY not in dump


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("", "llama.cpp could not load the model file"),  # a hollow file that passes the checks
        ("segv", "the model's process crashed (SIGSEGV)"),  # a loader that crashes
    ],
)
def test_a_model_file_that_breaks_its_process_fails_its_job_and_harms_nothing(
    fault: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker records the failure with its reason, the team sees it, and the same worker
    goes on to score the next submission."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
    from test_sandbox import gguf

    from palmares.backends.sandboxed import FAULT_ENV
    from palmares.campaigns import create_campaign, submit_model_file, submit_predictions
    from palmares.store import Job

    rows = [{"id": str(i), "q": f"Question {i} ?", "a": "oui"} for i in range(6)]
    for split in ("dev", "test"):
        (tmp_path / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "task.yaml").write_text(TASK, "utf-8")
    campaign = campaign_for_task(
        tmp_path, public_split="dev", accepts=("predictions", "model_file")
    )
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    db, artifacts = app.state.db, app.state.artifacts
    create_campaign(db, campaign)
    token = join(db, "alice", "lab-a")
    model = tmp_path / "model.gguf"
    if fault:
        monkeypatch.setenv(FAULT_ENV, fault)
        model = smollm2_gguf()
    else:
        model.write_bytes(gguf())
    broken = submit_model_file(db, artifacts, token, 1, "qa-chat", model)
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        "".join(json.dumps({"id": r["id"], "prediction": "oui"}) + "\n" for r in rows)
    )
    fine = submit_predictions(db, artifacts, token, 1, "qa-chat", answers)
    while run_one(db, artifacts) is not None:
        pass
    with db() as s:
        jobs = {j.submission_id: j for j in s.scalars(select(Job))}
    assert jobs[broken].status == "failed" and reason in (jobs[broken].error or "")
    assert jobs[fine].status == "done"
    view = TestClient(app).get(
        f"/api/submissions/{broken}", headers={"Authorization": f"Bearer {token}"}
    )
    assert view.json()["status"] == "failed"
