"""Resume: a run killed with SIGKILL, rerun → the same results, finished items not asked again;
an endpoint that fails for good → a clear error that keeps the finished items."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from palmares import load_task
from palmares.backends import load_model
from palmares.engine import ResponseCache, RunFailed, evaluate
from palmares.testing import smollm2_gguf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from _servers import ScriptedServer, Seen, Step, ok, status

N = 24


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "palmares.cli", "eval", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(cache) as db:
            return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.OperationalError:  # table not created yet
        return 0


def test_kill_9_then_rerun_gives_identical_results(arc_task: Path, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    model = f"llama:{smollm2_gguf()}"
    common = ["--task", str(arc_task), "--model", model, "--limit", str(N)]
    cache = tmp_path / "cache.sqlite3"
    run = _cli(*common, "--cache", str(cache), "--output", str(tmp_path / "resumed"))
    deadline = time.monotonic() + 300
    while _rows(cache) < 6 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert run.poll() is None, run.communicate()[0]
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    done = _rows(cache)
    assert 6 <= done < N
    rerun = _cli(*common, "--cache", str(cache), "--output", str(tmp_path / "resumed"))
    out = rerun.communicate(timeout=600)[0]
    assert rerun.returncode == 0, out
    resumed = json.loads((tmp_path / "resumed" / "results.json").read_text("utf-8"))
    assert resumed["run"]["cached"] == done  # the finished items were not asked again
    assert resumed["run"]["computed"] == N - done
    clean = _cli(
        *common, "--cache", str(tmp_path / "fresh.sqlite3"), "--output", str(tmp_path / "clean")
    )
    out = clean.communicate(timeout=600)[0]
    assert clean.returncode == 0, out
    reference = json.loads((tmp_path / "clean" / "results.json").read_text("utf-8"))
    assert reference["run"]["computed"] == N
    for key in ("scores", "slices", "model", "protocol", "dataset_hash", "predictions_hash"):
        assert resumed.get(key) == reference.get(key), key
    items = (tmp_path / "resumed" / "items.jsonl").read_bytes()
    assert items == (tmp_path / "clean" / "items.jsonl").read_bytes()


GEN = """
id: echo
version: 1
title: Echo
language: fr
license: CC0-1.0
dataset: {path: items.jsonl, format: jsonl, id_field: id, reference_field: a}
protocol: {type: generate, template: "{{ q }}", max_tokens: 4}
metrics: [exact_match]
"""


def test_failing_endpoint_keeps_finished_items(tmp_path: Path) -> None:
    rows = [{"id": str(i), "q": f"question {i}", "a": f"re: question {i}"} for i in range(6)]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (tmp_path / "task.yaml").write_text(GEN, "utf-8")
    task = load_task(tmp_path / "task.yaml")
    broken = {"on": False}

    def script(seen: Seen) -> Step:
        return status(500, "boom") if broken["on"] else ok()

    with ScriptedServer(script) as server:
        options: dict[str, Any] = {"concurrency": 1, "retries": 2, "backoff": 0.01}
        backend = load_model(f"openai:{server.url}#echo", options)
        cache = ResponseCache(tmp_path / "cache.sqlite3")
        answered = {"n": 0}
        original = backend.generate

        def break_after_three(requests: Any, on_result: Any) -> None:
            def counting(i: int, response: Any) -> None:
                on_result(i, response)
                answered["n"] += 1
                if answered["n"] == 3:
                    broken["on"] = True

            original(requests, counting)

        backend.generate = break_after_three  # type: ignore[method-assign]
        with pytest.raises(RunFailed) as err:
            evaluate(task, backend, cache=cache)
        assert "3 of 6 requests finished, kept in the response cache" in str(err.value)
        assert "500" in str(err.value)
        assert len(cache) == 3
        asked_before = len(server.seen)
        broken["on"] = False
        result = evaluate(task, backend, cache=cache)
        assert result.extra["run"] == {**result.extra["run"], "cached": 3, "computed": 3}
        assert len(server.seen) - asked_before == 3
        assert result.table.scores["exact_match"].value == 1.0
