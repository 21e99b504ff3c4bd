"""``make demo`` on a fresh clone, as a newcomer runs it (issue #14: it failed after the install
with « runs/demo/runs/demo/tasks/…: file not found »). The repository is cloned beside ``shared/``
as on a real checkout, then the Makefile target itself runs there with ``VENV=`` the suite's own
venv (never reinstalled), the clone's code first on the path, and ``DEMO_DATA=`` (the real-data
tasks add minutes of model time and are covered by ``test_demo_yaml.py``); once the home page
answers, a leaderboard is fetched and the server stopped.

The model's answers go to a response cache kept between runs
(``~/.cache/palmares/demo-test-responses.sqlite3``), and the demo folder gets fixed arithmetic
seeds, so that a rerun asks the model nothing new: 19 s then; with an empty cache and the
real-data tasks the first run took 10 to 14 minutes on 2 shared cores (load average 7), about 4
without them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path.home() / ".cache" / "palmares" / "demo-test-responses.sqlite3"
SEEDS = {
    "printemps-2026": 7_311_590_028_472_119_853,
    "automne-2026": 6_146_243_120_357_821_507,
    "printemps-2027": 4_922_815_367_144_203_011,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as res:
        return res.status, res.read().decode("utf-8")


def test_make_demo_on_a_fresh_clone() -> None:
    clone = Path(tempfile.mkdtemp(prefix="palmares-clone-", dir=REPO.parent))  # beside shared/
    try:
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        (clone / "runs" / "demo").mkdir(parents=True)
        (clone / "runs" / "demo" / "calcul-seeds.json").write_text(json.dumps(SEEDS))
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        venv = Path(sys.executable).parent.parent
        stamp = venv / ".installed-stamp"
        stamp_before = stamp.stat().st_mtime_ns if stamp.exists() else None
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(clone / "src"), "PALMARES_CACHE": str(CACHE)}
        env.pop("PALMARES_LLAMA_LOG", None)
        env.pop("PALMARES_DATA_DIR", None)
        log = clone / "make-demo.log"
        with log.open("w") as out:
            make = subprocess.Popen(
                # without the real data (DEMO_DATA empty): a cold cache costs ~4 min, not 10-14;
                # the data folder's part of the demo is tested by tests/demo/test_demo_yaml.py
                ["make", "demo", f"VENV={venv}", f"DEMO_PORT={port}", "DEMO_DATA="], cwd=clone,
                env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            home = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 1200  # a first run (empty cache): ~4 min
            while True:
                assert make.poll() is None, log.read_text()  # the demo stopped before serving
                assert time.monotonic() < deadline, log.read_text()
                try:
                    status, page = _get(home)
                    break
                except OSError:
                    time.sleep(1)
            assert status == 200 and "Grand défi IA générative en français" in page
            status, board = _get(f"{home}campaigns/3/tasks/culture-fr/leaderboard?phase=dev")
            assert status == 200 and "Gemma 3 270M · 0-shot" in board and "Hasard" in board
            status, api = _get(f"{home}api/campaigns/3/tasks/culture-fr/leaderboard?phase=dev")
            assert status == 200 and len(json.loads(api)["rows"]) == 5
        finally:
            os.killpg(make.pid, signal.SIGTERM)  # make and the demo it started
            make.wait(timeout=60)
        text = log.read_text()
        assert "Serving the demo at" in text and "error" not in text.lower(), text
        assert not [line for line in text.splitlines() if line.startswith("llama_")], text
        assert (clone / "runs" / "demo" / "palmares.db").is_file()  # relative to the clone
        # the suite's venv was used as it is: no reinstall (its stamp untouched)
        assert (stamp.stat().st_mtime_ns if stamp.exists() else None) == stamp_before
        assert "pip install" not in text
    finally:
        shutil.rmtree(clone, ignore_errors=True)
