"""The audit chain and leaderboard snapshots, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import EXAMPLE, campaign_file, join

from palmares.campaigns import (
    Artifacts,
    Forbidden,
    QuotaExceeded,
    create_campaign,
    freeze_ended,
    publish,
    run_one,
    snapshots,
    submit_predictions,
    verify,
)
from palmares.store import AuditEvent

IN_DEV = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
AFTER_DEV = datetime(2027, 4, 16, 1, 0, tzinfo=UTC)


def test_every_action_is_chained_and_tampering_is_found(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    campaign_id = create_campaign(db, campaign_file(tmp_path, quota=3))
    token = join(db, "alice", "lab-a", campaign_id)
    artifacts = Artifacts(tmp_path / "artifacts")
    outcomes: list[str] = []

    def one() -> None:
        try:
            submit_predictions(
                db, artifacts, token, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl", IN_DEV
            )
            outcomes.append("ok")
        except QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    while run_one(db, artifacts, clock=lambda: IN_DEV) is not None:
        pass
    verdict = verify(db)
    # campaign, user, registration, 3 accepted submissions (refused ones rolled back), 3 scores
    assert verdict.ok and verdict.events == 9, verdict
    with db() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("submission.create") == 3 and actions.count("submission.score") == 3
    assert token not in str(actions)
    with db.begin() as session:
        victim = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()[4]
        session.execute(
            update(AuditEvent).where(AuditEvent.id == victim.id).values(actor="mallory")
        )
    broken = verify(db)
    assert not broken.ok and broken.first_bad == victim.id


def test_snapshots_freeze_at_phase_end_and_rescores_keep_the_old(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    campaign_id = create_campaign(db, campaign_file(tmp_path))
    token = join(db, "alice", "lab-a", campaign_id)
    artifacts = Artifacts(tmp_path / "artifacts")
    submit_predictions(
        db, artifacts, token, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl", IN_DEV
    )
    run_one(db, artifacts, clock=lambda: IN_DEV)
    with pytest.raises(Forbidden, match="has not ended"):
        publish(db, campaign_id, "dev", "avis-fr", "too early", now=IN_DEV)
    assert freeze_ended(db, IN_DEV) == []
    first = freeze_ended(db, AFTER_DEV)
    assert len(first) == 1 and freeze_ended(db, AFTER_DEV) == []  # once per phase and task
    second = publish(db, campaign_id, "dev", "avis-fr", "rescore after a fix", now=AFTER_DEV)
    frozen = snapshots(db, campaign_id, "avis-fr")
    assert [s["id"] for s in frozen] == [first[0], second]
    assert frozen[1]["supersedes"] == first[0] and frozen[0]["reason"] == "phase ended"
    top = frozen[0]["private"][0]
    assert top["team"] == "lab-a" and top["ci"][0] <= top["value"] <= top["ci"][1]
    assert verify(db).ok


def test_serve_and_submit_over_http(db_url: str, tmp_path: Path) -> None:
    """`palmares serve` on a fresh database, `palmares submit --server`, its worker scores."""
    import json
    import socket
    import subprocess
    import sys
    import time

    import httpx
    from tests.campaigns.conftest import open_campaign_file

    from palmares.store import migrate, open_engine, sessions

    url = db_url
    engine = open_engine(url)
    migrate(engine)
    db = sessions(engine)
    create_campaign(db, open_campaign_file(tmp_path))
    token = join(db, "alice", "lab-a")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = [sys.executable, "-m", "palmares.cli"]
    server = subprocess.Popen(
        [*cli, "serve", "--db", url, "--artifacts", str(tmp_path / "a"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        submit = [*cli, "submit", "--server", base, "--campaign", "1", "--task", "avis-fr",
                  "--token", token, "--file"]  # fmt: skip
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"id": "zz", "prediction": "positif"}\n', "utf-8")
        res = subprocess.run([*submit, str(bad)], capture_output=True, text=True)
        assert res.returncode == 2 and "bad.jsonl:1: id: unknown id" in res.stderr, res
        res = subprocess.run(
            [*submit, str(EXAMPLE / "baseline.jsonl")], capture_output=True, text=True
        )
        assert res.returncode == 0 and "accepted" in res.stdout, res
        board: dict[str, object] = {}
        while time.monotonic() < deadline + 30:
            board = httpx.get(f"{base}/api/campaigns/1/tasks/avis-fr/leaderboard").json()
            if board.get("rows"):
                break
            time.sleep(0.3)
        rows = board["rows"]
        assert isinstance(rows, list) and rows[0]["team"] == "lab-a", json.dumps(board)
    finally:
        server.terminate()
        server.wait(timeout=10)
