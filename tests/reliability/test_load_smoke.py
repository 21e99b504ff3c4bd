"""The load bench's harness, briefly, on SQLite: the real server (``palmares serve``, two
processes) and a real worker process on 127.0.0.1, 20 leaderboard readers and 4 submitters for
5 s. Correctness, not timing: no request fails, and every accepted submission is stored, scored
and counted once (the figures come from ``bench/load.py`` at full size). Then the one failure
the full bench found, pinned: the server closing keep-alive connections that clients still reuse."""

from __future__ import annotations

import http.client
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_readers_and_submitters_on_sqlite(tmp_path: Path) -> None:
    bench = _bench()
    # two server processes sharing the port (serve --processes), as a deployment would run
    plan = bench.Plan(readers=20, submitters=4, duration_s=5, workers=1, seed_teams=3, processes=2)
    result = bench.run(f"sqlite:///{tmp_path / 'palmares.db'}", tmp_path, plan)
    report = bench.table(result)
    for name, endpoint in result["endpoints"].items():
        assert endpoint["count"] > 0, f"no {name} request completed\n{report}"
        assert endpoint["errors"] == 0, report
    checks = result["checks"]
    assert checks["accepted"] >= 4, report
    failed = [k for k, v in checks.items() if v is False]
    assert not failed, report
    assert result["processes_alive"], report


def test_an_idle_connection_outlives_the_clients_keep_alive(tmp_path: Path) -> None:
    """``palmares serve`` keeps an idle connection open longer than clients and proxies keep
    theirs: with uvicorn's default (5 s), a request sent on a connection as the server closed
    it failed (1 of ~1,700 requests in a full load run: a ReadError). Here the same connection
    is used again after 5.5 s idle (http.client never reconnects by itself)."""
    bench = _bench()
    fixture = bench.Fixture(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, [], [])
    with bench.server(fixture, bench.Plan(workers=0)) as (base, _):
        connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]))
        try:
            for wait in (5.5, 0):
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                assert response.status == 200, response.read()
                response.read()
                time.sleep(wait)  # idle past uvicorn's default keep-alive
        finally:
            connection.close()
