"""The response cache: every answer a model gave, keyed by (model identity, request).

A SQLite file in WAL mode, one committed row per answer as soon as it arrives, so that a run
killed at any moment (even ``kill -9``) keeps everything it had finished, and a rerun asks the
model only for the rest. The key is the SHA-256 of the canonical JSON of the model's identity and
the request (``core.requests.request_key``), so a different model file, endpoint or generation
setting never reuses another's answers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    """``$PALMARES_CACHE``, else ``~/.cache/palmares/responses.sqlite3``."""
    default = Path.home() / ".cache" / "palmares" / "responses.sqlite3"
    return Path(os.environ.get("PALMARES_CACHE", default))


class ResponseCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: each put is its own transaction, durable once it returns
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(_SCHEMA)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, response FROM responses WHERE key IN ({marks})", chunk
            )
            found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put(self, key: str, response: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, response, created) VALUES (?, ?, ?)",
            (key, json.dumps(response, ensure_ascii=False), time.time()),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()
