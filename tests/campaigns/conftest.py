"""The campaign database on both engines: a SQLite file, and a fresh schema of the PostgreSQL
server every machine runs (127.0.0.1:5432, trust auth, database ``test``; override the URL with
``$PALMARES_TEST_POSTGRES``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from palmares.store import migrate, open_engine, sessions

POSTGRES = os.environ.get(
    "PALMARES_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "palmares" / "examples" / "avis-fr"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'palmares.db'}"
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = open_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield POSTGRES + ("&" if "?" in POSTGRES else "?") + f"options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = open_engine(db_url)
    migrate(engine)
    yield sessions(engine)
    engine.dispose()


CAMPAIGN = """
challenge: {id: defi-fr, title: "Défi IA en français"}
campaign: {id: 2027-printemps, title: "Campagne de printemps 2027"}
tasks:
  - {task: EXAMPLE/task.yaml, hidden_split: test}
phases:
  - {kind: dev, start: 2027-03-01, end: 2027-04-15, quota: {per_day: 50, total: QUOTA},
     feedback: full, accepts: [predictions]}
  - {kind: test, start: 2027-04-16, end: 2027-04-23, quota: {total: 3}, feedback: none}
"""


def campaign_file(folder: Path, quota: int = 5) -> Path:
    path = folder / "campaign.yaml"
    body = CAMPAIGN.replace("EXAMPLE", str(EXAMPLE)).replace("QUOTA", str(quota))
    path.write_text(body, encoding="utf-8")
    return path


def open_campaign_file(folder: Path, quota: int = 5) -> Path:
    """The campaign with its dev phase open now (yesterday to tomorrow)."""
    path = campaign_file(folder, quota)
    now = datetime.now(UTC)
    body = path.read_text("utf-8")
    body = body.replace("2027-03-01", str((now - timedelta(days=1)).date()))
    body = body.replace("end: 2027-04-15", f"end: {(now + timedelta(days=1)).date()}")
    body = body.replace("2027-04-16", str((now + timedelta(days=2)).date()))
    body = body.replace("2027-04-23", str((now + timedelta(days=3)).date()))
    path.write_text(body, "utf-8")
    return path


def join(db: sessionmaker[Session], name: str, team: str, campaign_id: int = 1) -> str:
    """A participant of ``team``, registered to the campaign (rules accepted); their token."""
    from palmares.campaigns import add_user, register

    token = add_user(db, name, "participant", team=team)
    register(db, token, campaign_id, accept_rules=True)
    return token


def campaign_for_task(
    folder: Path,
    task: str = "task.yaml",
    *,
    public_split: str | None = None,
    hidden_split: str = "test",
    accepts: tuple[str, ...] = ("predictions",),
    quota: int = 5,
) -> Path:
    """A campaign on one task (path relative to ``folder``), its dev phase open now."""
    now = datetime.now(UTC)
    public = f", public_split: {public_split}" if public_split else ""
    path = folder / "campaign.yaml"
    path.write_text(
        f"""
challenge: {{id: defi-fr, title: "Défi"}}
campaign: {{id: c1, title: "Campagne 1"}}
tasks:
  - {{task: {task}{public}, hidden_split: {hidden_split}}}
phases:
  - {{kind: dev, start: {(now - timedelta(days=1)).date()}, end: {(now + timedelta(days=1)).date()},
     quota: {{total: {quota}}}, feedback: full, accepts: [{", ".join(accepts)}]}}
""",
        encoding="utf-8",
    )
    return path


def pin_partition_seed(db: sessionmaker[Session], campaign_id: int, task_id: str) -> str:
    """Replace a campaign task's random partition secret by a fixed seed, so that a test's
    public/private split (and its bootstrap resamples) is the same on every run; the seed."""
    from sqlalchemy import update

    from palmares.store import CampaignTask

    seed = f"{campaign_id}:{task_id}"
    with db.begin() as session:
        session.execute(
            update(CampaignTask)
            .where(CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id)
            .values(split_secret=seed)
        )
    return seed


def binary_campaign(
    folder: Path,
    task_id: str,
    truth: Iterable[int],
    *,
    id_prefix: str,
    feedback: str = "full",
    quota: int = 10,
) -> None:
    """A generated binary task in ``folder`` (items ``{id_prefix}0000``…, labels oui/non as in
    ``truth``) and a campaign of one dev phase on it, open now (``campaign.yaml``)."""
    import json

    lines = (
        json.dumps(
            {"id": f"{id_prefix}{i:04d}", "texte": f"item {i}", "label": "oui" if t else "non"}
        )
        for i, t in enumerate(truth)
    )
    (folder / "items.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (folder / "task.yaml").write_text(
        f"""id: {task_id}
version: 1
title: "Tâche binaire générée"
language: fr
license: CC0-1.0
dataset: {{path: items.jsonl, format: jsonl, id_field: id, input_fields: [texte],
  reference_field: label}}
metrics: [accuracy]
""",
        "utf-8",
    )
    now = datetime.now(UTC)
    (folder / "campaign.yaml").write_text(
        f"""
challenge: {{id: {task_id}, title: "Défi {task_id}"}}
campaign: {{id: c1, title: "Campagne"}}
tasks:
  - {{task: task.yaml, hidden_split: test}}
phases:
  - {{kind: dev, start: {(now - timedelta(days=1)).date()}, end: {(now + timedelta(days=1)).date()},
     quota: {{total: {quota}}}, feedback: {feedback}}}
""",
        "utf-8",
    )
