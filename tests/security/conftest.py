"""A campaign server under small upload limits, in-process and behind a real uvicorn server,
with what the hostile-upload tests check after every refusal: nothing stored, quota intact."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Message, Receive, Scope, Send
from tests.campaigns.conftest import EXAMPLE, campaign_for_task, db_url, join  # noqa: F401
from tests.security.corpus import LIMIT_MB, MODEL_LIMIT_MB

from palmares.campaigns import create_campaign
from palmares.store import Job, QuotaUsage, Submission
from palmares.web import Settings, create_app

#: a task run by a model (so that the campaign accepts model files), on the example's data
MODEL_TASK = f"""
id: avis-chat
version: 1
title: Avis
language: fr
license: CC0-1.0
dataset: {{path: {EXAMPLE / "avis.jsonl"}, format: jsonl, id_field: id, reference_field: label}}
protocol: {{type: chat, template: "{{{{ texte }}}}", max_tokens: 4}}
metrics: [exact_match]
"""
#: every text of the task's data: no reply may quote one (ids are not texts)
DATA_TEXTS = [
    json.loads(line)["texte"] for line in (EXAMPLE / "avis.jsonl").read_text("utf-8").splitlines()
]


@dataclass
class Server:
    """The application, its campaign (id 1: ``avis-fr`` for predictions and ``avis-chat`` for
    model files, quota 2) and a registered participant's token."""

    app: FastAPI
    token: str
    artifacts: Path
    url: str = ""
    #: bytes of request bodies the application was handed, per request (live server only)
    body_bytes: list[int] = field(default_factory=list)

    @property
    def db(self) -> sessionmaker[Session]:
        db: sessionmaker[Session] = self.app.state.db
        return db

    def stored(self) -> dict[str, int]:
        """What a refused upload must have left untouched: all zero."""
        with self.db() as s:
            rows = {
                "submissions": s.scalar(select(func.count()).select_from(Submission)) or 0,
                "jobs": s.scalar(select(func.count()).select_from(Job)) or 0,
                "quota used": s.scalar(select(func.coalesce(func.sum(QuotaUsage.used), 0))) or 0,
            }
        files = (
            [p for p in self.artifacts.rglob("*") if p.is_file()] if self.artifacts.exists() else []
        )
        return {**rows, "artifact files": len(files)}


def make_server(
    url: str, folder: Path, upload_mb: int = LIMIT_MB, model_mb: int = MODEL_LIMIT_MB
) -> Server:
    """The campaign server on database ``url``, its files in ``folder``, under these limits."""
    (folder / "chat.yaml").write_text(MODEL_TASK, "utf-8")
    task = EXAMPLE / "task.yaml"
    campaign = campaign_for_task(folder, str(task), accepts=("predictions", "model_file"), quota=2)
    entry = f"  - {{task: {task}, hidden_split: test}}"
    body = campaign.read_text("utf-8").replace(
        entry, f"{entry}\n  - {{task: chat.yaml, hidden_split: test}}"
    )
    campaign.write_text(body, "utf-8")
    artifacts = folder / "artifacts"
    settings = Settings(
        db=url, artifacts=str(artifacts), max_upload_mb=upload_mb, max_model_mb=model_mb
    )
    app = create_app(settings)
    create_campaign(app.state.db, campaign)
    return Server(app, join(app.state.db, "alice", "lab-a"), artifacts)


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Server:  # noqa: F811
    return make_server(db_url, tmp_path)


class _Counting:
    """Outermost ASGI layer of the live server: counts the body bytes the application was
    handed, to show how much of a hostile upload was read before the refusal."""

    def __init__(self, app: FastAPI, counts: list[int]) -> None:
        self.app, self.counts = app, counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        index = len(self.counts)
        self.counts.append(0)

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.counts[index] += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@contextmanager
def serving(served: Server) -> Iterator[Server]:
    """``served`` behind uvicorn on 127.0.0.1 (a free port), its body reads counted."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        _Counting(served.app, served.body_bytes), log_level="warning", access_log=False
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not _answers(port):
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    served.url = f"127.0.0.1:{port}"
    served.body_bytes.clear()
    try:
        yield served
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Server]:
    """The server on SQLite behind uvicorn, for the streaming limits: what matters there is
    the socket, not the database."""
    with serving(make_server(f"sqlite:///{tmp_path / 'palmares.db'}", tmp_path)) as served:
        yield served


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
