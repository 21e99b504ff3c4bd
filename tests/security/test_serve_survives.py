"""No input takes ``palmares serve`` down (issue #13): a real server process on 127.0.0.1, a
SQLite file, its temporary folder (``TMPDIR``) a folder of the test's.

* Predictions nested 20,000 and 100,000 deep (40 kB and 200 kB on one line: pyarrow's JSON
  reader crashed the whole process on them, before the exact path's depth check ran), as JSON
  Lines and gzip-compressed, through the API and through the submit page: each a 400 naming
  the file, the line and the problem; the process answers ``/healthz`` after each, and no
  upload folder is left behind (and those of a process that died are swept).
* A worker process that crashes while scoring (``PALMARES_FAULT_WORKER_CRASH``: a segfault
  once it claims a job) is restarted; the web process goes on answering.
"""

from __future__ import annotations

import gzip
import html
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from tests.security.conftest import make_server
from tests.security.corpus import GOOD

from palmares.backends.gguf import MAX_STRING_ARRAY, check_gguf
from palmares.campaigns import log_in, set_password
from palmares.campaigns.worker import CRASH_ENV
from palmares.core import InputError
from palmares.web.pages._base import SESSION_COOKIE
from palmares.web.uploads import PREFIX, sweep_orphans


def nested(depth: int) -> bytes:
    """The probe's file: one line, ``{"id":`` then ``depth`` brackets opened and closed."""
    return b'{"id":' + b"[" * depth + b"]" * depth + b',"prediction":"1"}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=5, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def test_nesting_bombs_are_400s_and_a_crashing_worker_is_restarted(tmp_path: Path) -> None:
    started = time.monotonic()
    url = f"sqlite:///{tmp_path / 'palmares.db'}"
    served = make_server(url, tmp_path)
    set_password(served.db, "alice", "un mot de passe sûr")
    session = log_in(served.db, "alice", "un mot de passe sûr")
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PALMARES_")}
    env |= {"TMPDIR": str(temp), CRASH_ENV: "1"}  # each worker process segfaults on a job
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "palmares.cli", "serve", "--db", url,
         "--artifacts", str(served.artifacts), "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _healthy(base):
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        client = httpx.Client(base_url=base, timeout=120, trust_env=False)
        client.cookies.set(SESSION_COOKIE, session.token)  # the page's session; the API's token
        bombs = {
            "40 kB": nested(20_000),
            "200 kB": nested(100_000),
        }
        seen = []
        for size, body in bombs.items():
            for name, data in (("p.jsonl", body), ("p.jsonl.gz", gzip.compress(body, mtime=0))):
                api = client.post(
                    "/api/campaigns/1/tasks/avis-fr/submissions",
                    files={"file": (name, data)},
                    data={"kind": "predictions"},
                    headers={"Authorization": f"Bearer {served.token}"},
                )
                page = client.post(
                    "/campaigns/1/tasks/avis-fr/submit?lang=en",  # in English, as the API
                    files={"file": (name, data)},
                    data={"kind": "predictions", "csrf": session.csrf},
                )
                # the API says file:line: problem; the page lays them out as a list
                said = {
                    "API": (api, f"{name}:1: invalid JSON: nested too deeply"),
                    "page": (page, f"<dd>{name}</dd>", '<dd class="line">1</dd>',
                             "<dd>invalid JSON: nested too deeply</dd>"),
                }  # fmt: skip
                for route, (res, *texts) in said.items():
                    text = res.json()["message"] if route == "API" else html.unescape(res.text)
                    seen.append((size, name, route, res.status_code))
                    assert res.status_code == 400, (size, name, route, res.text[:300])
                    assert all(t in text for t in texts), (route, texts, text[:300])
                    assert server.poll() is None, "the server died"
                    assert _healthy(base), (size, name, route)
                    assert list(temp.iterdir()) == [], list(temp.iterdir())
        assert len(seen) == 8

        # a good file is accepted; the worker process that claims it crashes, and is restarted
        res = client.post(
            "/api/campaigns/1/tasks/avis-fr/submissions",
            files={"file": ("p.jsonl", GOOD)},
            headers={"Authorization": f"Bearer {served.token}"},
        )
        assert res.status_code == 201, res.text
        deadline = time.monotonic() + 60
        while b"ended (signal SIGSEGV): restarted" not in (tmp_path / "serve.log").read_bytes():
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        assert server.poll() is None and _healthy(base)
        board = client.get("/api/campaigns/1/tasks/avis-fr/leaderboard")
        assert board.status_code == 200, board.text
        assert list(temp.iterdir()) == []
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in text, text
    print(f"real serve: {seen}, {time.monotonic() - started:.1f} s")


def test_upload_folders_of_dead_processes_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server killed (or crashed) during an upload could not remove its folder: the next
    server process to receive an upload removes it; a live process's folder stays."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    names = {
        "dead": f"{PREFIX}{gone.pid}-abc123",
        "mine": f"{PREFIX}{os.getpid()}-abc123",
        "live": f"{PREFIX}{os.getppid()}-abc123",
        "old style": f"{PREFIX}abc123",  # no pid: not known to be anyone's
    }
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / "upload.jsonl").write_bytes(b"x")
    assert sweep_orphans(again=True) == [names["dead"]]
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {names["mine"], names["live"], names["old style"]}


def test_a_gguf_string_array_is_bounded(tmp_path: Path) -> None:
    """Each string of a metadata array costs a Python step: their count is bounded first."""
    key = b"tokenizer.ggml.tokens"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    header += struct.pack("<IIQ", 9, 8, MAX_STRING_ARRAY + 1) + bytes(64)
    (path := tmp_path / "m.gguf").write_bytes(header)
    with pytest.raises(InputError, match=f"of {MAX_STRING_ARRAY + 1} strings"):
        check_gguf(path)
