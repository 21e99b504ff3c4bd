"""The outside probe of issue #13, rebuilt: nothing the public (or a participant, on their own
runs) can read may depend on a hidden reference. Two worlds are built the same way — a campaign
on a task whose hidden split has references, a registered team's scored submission, a frozen
snapshot — except that ONE hidden reference differs; then every anonymous API GET route of
``/openapi.json``, every public page and every page and JSON of the participant's own run are
fetched in both and compared, ids, times and CSRF tokens normalised. A task hash over every
split (the probe's oracle: 4 offline guesses of a seed rebuilt it) would differ; the public
hash does not."""

from __future__ import annotations

import difflib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.campaigns.conftest import campaign_for_task, pin_partition_seed

from palmares.campaigns import (
    add_user,
    create_campaign,
    log_in,
    publish,
    register,
    run_one,
    set_password,
)
from palmares.store import CampaignTask
from palmares.tasks import load_task
from palmares.web import Settings, create_app

TASK = """
id: probe-qa
version: 1
title: Probe QA
language: fr
license: CC0-1.0
dataset:
  splits: {dev: dev.jsonl, test: test.jsonl}
  format: jsonl
  id_field: id
  input_fields: [question]
  reference_field: answer
  slice_fields: [kind]
metrics: [exact_match, token_f1]
"""
PASSWORD = "correct horse battery"
CHANGED = "q7"  # the one hidden item whose reference differs between the two worlds


def _world(folder: Path, changed: bool) -> dict[str, Any]:
    folder.mkdir()
    rows = [
        {
            "id": f"q{i}",
            "question": f"Combien font {i} et {i} ?",
            "answer": f"secret-{i}" + ("-autre" if changed and f"q{i}" == CHANGED else ""),
            "kind": "a" if i % 2 else "b",
        }
        for i in range(40)
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    dev = [
        {"id": f"d{i}", "question": f"Exemple {i} ?", "answer": f"réponse {i}", "kind": "a"}
        for i in range(6)
    ]
    (folder / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dev), "utf-8")
    (folder / "task.yaml").write_text(TASK, "utf-8")
    campaign = campaign_for_task(folder, public_split="dev", quota=20)
    app = create_app(
        Settings(db=f"sqlite:///{folder / 'p.db'}", artifacts=str(folder / "artifacts"))
    )
    db = app.state.db
    create_campaign(db, campaign)
    # the partition's secret is random per campaign: the same in both worlds, so that only the
    # changed reference tells them apart
    pin_partition_seed(db, 1, "probe-qa")
    token = add_user(db, "alice", "participant", team="lab-a")
    set_password(db, "alice", PASSWORD)
    register(db, token, 1, True)
    add_user(db, "olga", "organiser")
    api = TestClient(app)
    # wrong on the changed item in both worlds (a score may follow a reference; nothing else)
    hidden = [
        {"id": r["id"], "prediction": r["answer"] if i < 20 and r["id"] != CHANGED else "?"}
        for i, r in enumerate(rows)
    ]
    public = [
        {"id": r["id"], "prediction": r["answer"] if i < 3 else "?"} for i, r in enumerate(dev)
    ]
    sids = []
    for split, preds in (("hidden", hidden), ("public", public)):
        res = api.post(
            "/api/campaigns/1/tasks/probe-qa/submissions",
            files={"file": ("p.jsonl", "".join(json.dumps(p) + "\n" for p in preds))},
            data={"split": split},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert res.status_code == 201, res.text
        sids.append(res.json()["id"])
    while run_one(db, app.state.artifacts) is not None:
        pass
    later = datetime.now(UTC) + timedelta(days=2)  # after the dev phase: a frozen snapshot
    publish(db, 1, "dev", "probe-qa", "probe", actor="olga", now=later)
    web = TestClient(app, cookies={"palmares_session": log_in(db, "alice", PASSWORD).token})
    with db() as s:
        entry = s.get(CampaignTask, 1)
        assert entry is not None
        hashes = {"task_hash": entry.task_hash, "public_hash": entry.public_hash}
    return {"app": app, "api": api, "web": web, "token": token, "sids": sids, **hashes}


_NOISE = [
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id>"),  # submission ids
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?"), "<time>"),
    (re.compile(r'name="csrf" value="[^"]*"'), 'name="csrf" value="<csrf>"'),
    (re.compile(r'content="[A-Za-z0-9_-]{20,}"'), 'content="<csrf>"'),
    (re.compile(r"(il y a|dans|ago|in) \d+ ?\w*"), "<relative time>"),
]


def _normalised(text: str, world: dict[str, Any]) -> str:
    for i, sid in enumerate(world["sids"]):
        text = text.replace(sid, f"<submission {i}>").replace(sid[:8], f"<submission {i}>")
    for pattern, replacement in _NOISE:
        text = pattern.sub(replacement, text)
    return text


def _anonymous_gets(world: dict[str, Any]) -> list[str]:
    """Every GET route of the API's schema, made concrete, and every public page."""
    schema = world["api"].get("/openapi.json").json()["paths"]
    paths = []
    for template, methods in schema.items():
        if "get" not in methods:
            continue
        path = template.replace("{campaign_id}", "1").replace("{task_id}", "probe-qa")
        path = path.replace("{submission_id}", "<hidden>")
        if "{split}" in path:
            paths += [path.replace("{split}", "dev"), path.replace("{split}", "test")]
        elif "leaderboard" in path:
            paths += [path + "?phase=dev", path + "?phase=dev&part=private"]
        else:
            paths.append(path)
    assert all("{" not in p for p in paths), paths  # every parameter made concrete
    board = "/campaigns/1/tasks/probe-qa/leaderboard?phase=dev"
    pages = ["/", "/challenges/defi-fr", "/campaigns/1", "/campaigns/1/tasks/probe-qa", board,
             board + "&part=private", board + "&slice=kind:a", "/login", "/signup"]  # fmt: skip
    return ["/openapi.json", *paths, *pages]


def _participant_gets() -> list[str]:
    """The participant's own runs (``<hidden>``, ``<public>``: their submission ids)."""
    hidden, public = "<hidden>", "<public>"
    return [
        "/api/submissions",
        f"/api/submissions/{hidden}",
        f"/api/submissions/{public}",
        f"/api/submissions/{public}/items",
        f"/api/submissions/{hidden}/items",
        "/api/campaigns/1/tasks/probe-qa/data/test",  # the hidden inputs, for a registered team
        "/api/campaigns/1/tasks/probe-qa/data/dev",
        "/api/campaigns",
        "/api/campaigns/1",
        "/api/campaigns/1/tasks/probe-qa/leaderboard?phase=dev",
        "/api/campaigns/1/tasks/probe-qa/snapshots",
        "/submissions",
        f"/submissions/{hidden}",
        f"/submissions/{public}",
        f"/submissions/{public}?errors=1",
        "/team",
        "/campaigns/1",
        "/campaigns/1/tasks/probe-qa",
        "/campaigns/1/tasks/probe-qa/submit",
        "/campaigns/1/tasks/probe-qa/leaderboard?phase=dev",
    ]


def test_no_public_response_depends_on_a_hidden_reference(tmp_path: Path) -> None:
    one, two = _world(tmp_path / "one", False), _world(tmp_path / "two", True)
    # the probe is sensitive: the hidden splits differ, and the hash over every split says so
    assert load_task(tmp_path / "one" / "task.yaml").dataset_hash("test") != load_task(
        tmp_path / "two" / "task.yaml"
    ).dataset_hash("test")
    assert one["task_hash"] != two["task_hash"]
    assert one["public_hash"] == two["public_hash"] is not None
    compared = 0
    for who, paths in (("anonymous", _anonymous_gets(one)), ("participant", _participant_gets())):
        for template in paths:
            answers = []
            for world in (one, two):
                path = template.replace("<hidden>", world["sids"][0])
                path = path.replace("<public>", world["sids"][1])
                if who == "anonymous":
                    res = world["api"].get(path, follow_redirects=False)
                else:
                    auth = {"Authorization": f"Bearer {world['token']}"}
                    client = world["api"] if path.startswith("/api/") else world["web"]
                    res = client.get(path, headers=auth, follow_redirects=False)
                assert res.status_code < 500, (who, path, res.status_code)
                answers.append((res.status_code, _normalised(res.text, world)))
            if answers[0] != answers[1]:
                diff = difflib.unified_diff(answers[0][1].splitlines(), answers[1][1].splitlines())
                detail = "\n".join(list(diff)[:30])
                raise AssertionError(
                    f"{who} GET {template} depends on a hidden reference:\n{detail}"
                )
            text = answers[0][1]
            for world in (one, two):
                assert world["task_hash"] not in text, (who, path)
                assert world["task_hash"][:12] not in text, (who, path)
            assert "secret-7" not in text, (who, path)
            compared += 1
    assert compared >= 40, compared
    print(f"{compared} responses compared, none changed")
    # and the comparison would have caught the old response: staff see the full hash, which moves
    staff = [add_user(w["app"].state.db, "audrey", "auditor") for w in (one, two)]
    seen = [
        _normalised(
            w["api"].get("/api/campaigns/1", headers={"Authorization": f"Bearer {t}"}).text, w
        )
        for w, t in zip((one, two), staff, strict=True)
    ]
    assert seen[0] != seen[1]
    # the anonymous campaign JSON names the public hash, never the full one
    task = one["api"].get("/api/campaigns/1").json()["tasks"][0]
    assert task["public_hash"] == one["public_hash"] and "task_hash" not in task
    assert one["public_hash"][:16] in one["api"].get("/campaigns/1/tasks/probe-qa").text


def test_staff_see_the_full_task_hash(tmp_path: Path) -> None:
    world = _world(tmp_path / "one", False)
    db = world["app"].state.db
    token = add_user(db, "audrey", "auditor")
    task = (
        world["api"]
        .get("/api/campaigns/1", headers={"Authorization": f"Bearer {token}"})
        .json()["tasks"][0]
    )
    assert task["task_hash"] == world["task_hash"] and task["public_hash"] == world["public_hash"]
    listed = world["api"].get("/api/campaigns", headers={"Authorization": f"Bearer {token}"})
    assert listed.json()["items"][0]["tasks"][0]["task_hash"] == world["task_hash"]
    participant = world["api"].get(
        "/api/campaigns/1", headers={"Authorization": f"Bearer {world['token']}"}
    )
    assert "task_hash" not in participant.json()["tasks"][0]


def test_public_hash_covers_the_spec_and_the_public_split_only(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, answer, question in ((one, "a", "Q ?"), (two, "b", "Autre Q ?")):
        folder.mkdir()
        (folder / "task.yaml").write_text(TASK, "utf-8")
        (folder / "dev.jsonl").write_text(
            json.dumps({"id": "d0", "question": "Ex ?", "answer": "r", "kind": "a"}) + "\n"
        )
        hidden = [{"id": "q0", "question": question, "answer": answer, "kind": "a"}]
        if folder == two:  # another size too
            hidden.append({"id": "q1", "question": "Q1 ?", "answer": "c", "kind": "b"})
        (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in hidden))
    a, b = load_task(one / "task.yaml"), load_task(two / "task.yaml")
    assert a.hash != b.hash
    assert a.public_hash(["dev"]) == b.public_hash(["dev"]) == a.public_hash(["dev", None])
    assert a.public_hash([]) == b.public_hash([])  # no public split: the spec alone
    assert a.public_hash(["dev"]) != a.public_hash(["test"])  # a public split is covered
    assert a.public_hash(["dev"]) != a.hash
    (two / "dev.jsonl").write_text(
        json.dumps({"id": "d0", "question": "Ex ?", "answer": "autre", "kind": "a"}) + "\n"
    )
    assert load_task(two / "task.yaml").public_hash(["dev"]) != a.public_hash(["dev"])
