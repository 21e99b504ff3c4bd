"""Receiving a submission over HTTP, for the API and the submit page alike: the upload is
copied to a temporary file with its size checked as it streams, then handed to the service,
which checks it all before counting anything."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import Artifacts, submit_endpoint, submit_model_file, submit_predictions
from palmares.core import InputError
from palmares.web.settings import Settings


def receive(
    db: sessionmaker[Session],
    artifacts: Artifacts,
    settings: Settings,
    token: str,
    campaign_id: int,
    task_id: str,
    *,
    kind: str,
    file: BinaryIO | None = None,
    filename: str | None = None,
    url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    split: str = "hidden",
    system: str | None = None,
) -> str:
    """Queue a predictions file, a GGUF model file or an endpoint; the submission's id."""
    if kind == "endpoint":
        return submit_endpoint(
            db, token, campaign_id, task_id, url or "", model or "", api_key, system=system
        )
    if kind not in ("predictions", "model_file"):
        raise InputError(f"unknown submission kind {kind!r}", field="kind")
    if file is None:
        raise InputError(f"a {kind} submission uploads a file", field="file")
    name = Path(filename or "upload").name  # errors name the file as sent
    limit = settings.max_upload_mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / name
        with local.open("wb") as fh:
            copied = 0
            while chunk := file.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    raise InputError(
                        f"the file is larger than {settings.max_upload_mb} MB", file=name
                    )
                fh.write(chunk)
        try:
            if kind == "predictions":
                return submit_predictions(
                    db, artifacts, token, campaign_id, task_id, local, split=split, system=system
                )
            return submit_model_file(
                db, artifacts, token, campaign_id, task_id, local, system=system
            )
        except InputError as exc:  # name the file as sent, not the server's temporary folder
            if exc.file and exc.file.startswith(folder):
                exc.file = exc.file[len(folder) + 1 :]
            raise
