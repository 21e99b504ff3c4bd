"""The whole campaign, as its users live it, on SQLite and PostgreSQL: a campaign YAML with two
real tasks (RTE3-FR, Allociné) → an organiser and two teams made with the CLI → registration →
submissions with `palmares submit` (valid and invalid) → `palmares worker` scores → leaderboard
JSON with intervals → the phase closes → snapshot frozen → private ranking published."""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from tests.test_real_data import ALLOCINE, DATA, RTE3

import palmares.cli._campaign  # noqa: F401  (registers the sub-commands)
from palmares.cli import cli
from palmares.web import Settings, create_app

# the real-data tasks of tests/test_real_data.py, primary metrics for a leaderboard
TASKS = {
    "rte3.yaml": RTE3.replace(
        "metrics: [accuracy, macro_f1, mcc, per_class_f1, weighted_recall]",
        "metrics: [macro_f1, accuracy]",
    ),
    "allocine.yaml": ALLOCINE.replace("METRICS", "[accuracy]"),
}


def _run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, (args, res.output)
    return res.stdout


def _predictions(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "prediction": p}) + "\n" for i, p in rows))
    return path


def test_campaign_end_to_end(db_url: str, tmp_path: Path) -> None:
    for name, body in TASKS.items():
        (tmp_path / name).write_text(body.replace("DATA", str(DATA)), "utf-8")
    now = datetime.now(UTC)
    end = now + timedelta(seconds=25)
    (tmp_path / "campaign.yaml").write_text(
        f"""
challenge: {{id: defi-fr, title: "Défi"}}
campaign: {{id: c1, title: "Campagne 1"}}
tasks:
  - {{task: rte3.yaml, public_split: dev, hidden_split: test}}
  - {{task: allocine.yaml, public_split: random, hidden_split: balanced}}
phases:
  - {{kind: dev, start: {(now - timedelta(days=1)).isoformat()}, end: {end.isoformat()},
     quota: {{per_day: 5}}, feedback: full}}
""",
        "utf-8",
    )
    db = ["--db", db_url]
    art = ["--artifacts", str(tmp_path / "artifacts")]
    _run("campaign", "create", str(tmp_path / "campaign.yaml"), *db)
    _run("users", "add", "olga", "--role", "organiser", *db)
    tokens = {
        team: _run(
            "users", "add", f"user-{team}", "--role", "participant", "--team", team, *db
        ).strip()
        for team in ("lab-a", "lab-b")
    }
    for token in tokens.values():
        _run("register", "--campaign", "1", "--accept-rules", "--token", token, *db)

    rte3 = list(
        csv.DictReader((DATA / "rte3_fr/RTE3-FR-test-gold-3class.tsv").open(), delimiter="\t")
    )
    good = _predictions(
        tmp_path / "a.jsonl",
        [(r["id"], r["label_text"] if int(r["id"]) % 3 else "neutral") for r in rte3],
    )
    weak = _predictions(tmp_path / "b.jsonl", [(r["id"], "entailment") for r in rte3])
    broken = _predictions(tmp_path / "bad.jsonl", [(r["id"], "entailment") for r in rte3[:-1]])
    submit = ["submit", "--campaign", "1", "--task", "rte3-fr", *db, *art, "--token"]
    bad = CliRunner().invoke(cli, [*submit, tokens["lab-b"], "--file", str(broken)])
    assert bad.exit_code == 2 and "bad.jsonl" in bad.stderr and "missing" in bad.stderr, bad.output
    _run(*submit, tokens["lab-a"], "--file", str(good))
    _run(*submit, tokens["lab-b"], "--file", str(weak))
    allocine = list(csv.DictReader((DATA / "allocine_sample/allocine_test_balanced400.csv").open()))
    votes = _predictions(tmp_path / "c.jsonl", [(str(i), "1") for i in range(len(allocine))])
    _run(
        "submit",
        "--campaign",
        "1",
        "--task",
        "allocine",
        *db,
        *art,
        "--token",
        tokens["lab-a"],
        "--file",
        str(votes),
    )
    for _ in range(3):
        _run("worker", "--once", *db, *art)

    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    api = TestClient(app)
    board = api.get("/api/campaigns/1/tasks/rte3-fr/leaderboard?phase=dev").json()["rows"]
    assert [r["team"] for r in board] == ["lab-a", "lab-b"]
    for row in board:
        assert row["metric"] == "macro_f1" and row["ci"][0] <= row["value"] <= row["ci"][1]
    assert (
        api.get("/api/campaigns/1/tasks/rte3-fr/leaderboard?phase=dev&part=private").status_code
        == 403
    )
    assert api.get("/api/campaigns/1/tasks/rte3-fr/snapshots").json()["snapshots"] == []

    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.5)  # the phase closes
    _run("worker", "--once", *db, *art)  # nothing to score: it freezes the ended phase
    frozen = api.get("/api/campaigns/1/tasks/rte3-fr/snapshots").json()["snapshots"]
    assert len(frozen) == 1 and frozen[0]["reason"] == "phase ended"
    private = frozen[0]["private"]
    assert [r["team"] for r in private] == ["lab-a", "lab-b"] and all(r["ci"] for r in private)
    assert (
        api.get("/api/campaigns/1/tasks/rte3-fr/leaderboard?phase=dev&part=private").status_code
        == 200
    )
    verdict = CliRunner().invoke(cli, ["audit", "verify", *db])
    assert verdict.exit_code == 0 and "intact" in verdict.stdout
