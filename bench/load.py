"""Bench: the server under load — 200 leaderboard readers and 20 submitters for 60 s (issue #8).

Builds a fresh database (a SQLite file in a temporary folder, or a fresh schema of the
PostgreSQL server on 127.0.0.1:5432) holding a campaign on the bundled avis-fr task, its dev
phase open, with ``--seed-teams`` teams already scored (by the real worker code) and
``--submitters`` registered teams whose quota cannot run out. Then starts the real server
(``palmares serve --workers 0``) and ``--workers`` worker processes (``palmares worker``) on
127.0.0.1, and drives them from this process (httpx, one event loop) for ``--duration`` s:

  readers     loop on GET of the leaderboard, alternately the API (JSON) and the HTML page;
  submitters  loop on POST of a valid predictions file (the baseline, a seeded share flipped).

Every response that is not 2xx, and every exception (a timeout too), is an error. Then it
waits for the queue to drain and checks in the database that every submission is accounted
for: the ids the clients were given are exactly the submissions rows of their teams, each
scored once (one score row, one ``submission.score`` audit event, its job done on the first
attempt), quota usage equals the accepted count, and the audit chain is intact.

Usage: ``.venv/bin/python bench/load.py [--db sqlite|postgresql|both] [--readers 200]
[--submitters 20] [--duration 60] [--workers 1] [--quick] [--output build/bench-load]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._load_checks import drain, passed, table, verify  # noqa: E402

POSTGRES = os.environ.get(
    "PALMARES_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TASK = "avis-fr"
LEADERBOARD_API = f"/api/campaigns/1/tasks/{TASK}/leaderboard?phase=dev"
LEADERBOARD_PAGE = f"/campaigns/1/tasks/{TASK}/leaderboard?phase=dev"
SUBMIT = f"/api/campaigns/1/tasks/{TASK}/submissions"
QUOTA = 1_000_000  # per day and in total: the submitters never run out


@dataclass(frozen=True)
class Plan:
    readers: int = 200
    submitters: int = 20
    duration_s: float = 60.0
    workers: int = 1
    seed_teams: int = 30
    drain_timeout_s: float = 600.0
    request_timeout_s: float = 60.0
    processes: int = 1  # web server processes (palmares serve --processes)


@dataclass
class Endpoint:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    #: the first few errors: when (s into the run), after how long (ms), what
    samples: list[tuple[float, float, str]] = field(default_factory=list)

    def fail(self, kind: str, at: float, took: float, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 5:
            self.samples.append((round(at, 2), round(took * 1000, 1), detail[:300]))

    def summary(self, elapsed: float) -> dict[str, Any]:
        ms = sorted(x * 1000 for x in self.latencies)

        def pct(p: float) -> float | None:  # nearest rank
            return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 1) if ms else None

        return {
            "count": len(ms) + sum(self.errors.values()),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "error_samples": self.samples,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "max_ms": round(ms[-1], 1) if ms else None,
            "per_s": round(len(ms) / elapsed, 1),
        }


@dataclass
class Fixture:
    url: str
    folder: Path
    tokens: list[str]  # one per submitter team, in order
    files: list[list[bytes]]  # predictions files per submitter, used in turn


def prepare(url: str, folder: Path, plan: Plan) -> Fixture:
    """The database: the campaign, the seeded teams (scored in this process by the worker's own
    code), the submitters' teams and their predictions files."""
    from tests.campaigns.conftest import EXAMPLE, join, open_campaign_file

    from palmares.campaigns import Artifacts, create_campaign, run_one, submit_predictions
    from palmares.store import migrate, open_engine, sessions

    engine = open_engine(url)
    migrate(engine)
    db, artifacts = sessions(engine), Artifacts(str(folder / "artifacts"))
    path = open_campaign_file(folder, quota=QUOTA)
    path.write_text(path.read_text("utf-8").replace("per_day: 50", f"per_day: {QUOTA}"), "utf-8")
    create_campaign(db, path)
    baseline = [
        json.loads(x) for x in (EXAMPLE / "baseline.jsonl").read_text("utf-8").split("\n") if x
    ]
    rng = random.Random(20261128)

    def variant() -> bytes:
        share = rng.random() * 0.5
        flip = {"positif": "négatif", "négatif": "positif"}
        rows = [
            {**r, "prediction": flip[r["prediction"]]} if rng.random() < share else r
            for r in baseline
        ]
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()

    for i in range(plan.seed_teams):
        token = join(db, f"seed{i}", f"seed-{i:03d}")
        (folder / "seed.jsonl").write_bytes(variant())
        submit_predictions(db, artifacts, token, 1, TASK, folder / "seed.jsonl")
    while run_one(db, artifacts) is not None:
        pass
    tokens = [join(db, f"load{i}", f"load-{i:03d}") for i in range(plan.submitters)]
    files = [[variant() for _ in range(8)] for _ in range(plan.submitters)]
    engine.dispose()
    return Fixture(url, folder, tokens, files)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL of a fresh schema of the PostgreSQL server, dropped afterwards."""
    from sqlalchemy import text

    from palmares.store import open_engine

    schema = "load_" + uuid.uuid4().hex[:12]
    admin = open_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield POSTGRES + ("&" if "?" in POSTGRES else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), 0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@contextmanager
def server(fixture: Fixture, plan: Plan) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """``palmares serve`` (web only) and the worker processes, logs in the folder."""
    common = ["--db", fixture.url, "--artifacts", str(fixture.folder / "artifacts")]
    port = _free_port()
    cli = [sys.executable, "-m", "palmares.cli"]
    commands = [[*cli, "serve", *common, "--port", str(port), "--workers", "0",
                 "--processes", str(plan.processes)]]  # fmt: skip
    commands += [[*cli, "worker", *common] for _ in range(plan.workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PALMARES_FAULT")}
    procs = []
    try:
        for i, command in enumerate(commands):
            log = (fixture.folder / f"{'server' if i == 0 else f'worker{i}'}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=fixture.folder
                )
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _healthy(base):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"the server did not start: see {fixture.folder}/server.log")
            time.sleep(0.2)
        yield base, procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _get(base: str, path: str) -> Any:
    import httpx

    return httpx.get(base + path, timeout=60, trust_env=False).raise_for_status()


def _healthy(base: str) -> bool:
    import httpx

    try:
        return bool(_get(base, "/healthz"))
    except httpx.HTTPError:
        return False


def alone(base: str, repeat: int = 10) -> dict[str, float]:
    """Median ms of each GET with no other request in flight (after one warm-up): the service
    time, against which the latencies under load are queueing."""
    import httpx

    found = {}
    with httpx.Client(base_url=base, trust_env=False, timeout=60) as client:
        for name, path in (
            ("GET leaderboard API", LEADERBOARD_API),
            ("GET leaderboard page", LEADERBOARD_PAGE),
        ):
            times = []
            for _ in range(repeat + 1):
                start = time.perf_counter()
                client.get(path).raise_for_status()
                times.append(time.perf_counter() - start)
            found[name] = round(statistics.median(times[1:]) * 1000, 1)
    return found


async def drive(
    base: str, fixture: Fixture, plan: Plan
) -> tuple[dict[str, Endpoint], list[list[str]], float]:
    """Readers and submitters until the duration is over (requests in flight finish); the
    endpoints' figures, the ids each submitter was given, the elapsed seconds."""
    import httpx

    stats = {
        name: Endpoint()
        for name in ("GET leaderboard API", "GET leaderboard page", "POST submission")
    }
    accepted: list[list[str]] = [[] for _ in fixture.tokens]
    limits = httpx.Limits(
        max_connections=plan.readers + plan.submitters + 8, max_keepalive_connections=None
    )
    timeout = httpx.Timeout(plan.request_timeout_s)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=timeout, trust_env=False
    ) as client:
        deadline = time.monotonic() + plan.duration_s

        async def timed(
            name: str, call: Awaitable[httpx.Response], ok: int
        ) -> httpx.Response | None:
            start = time.perf_counter()
            at = plan.duration_s - (deadline - time.monotonic())
            try:
                response = await call
            except Exception as exc:  # a timeout, a reset connection: each an error
                took = time.perf_counter() - start
                stats[name].fail(type(exc).__name__, at, took, repr(exc))
                return None
            if response.status_code != ok:
                took = time.perf_counter() - start
                stats[name].fail(f"HTTP {response.status_code}", at, took, response.text)
                return None
            stats[name].latencies.append(time.perf_counter() - start)
            return response

        async def reader(i: int) -> None:
            while time.monotonic() < deadline:
                if i % 2:
                    await timed("GET leaderboard API", client.get(LEADERBOARD_API), 200)
                else:
                    await timed("GET leaderboard page", client.get(LEADERBOARD_PAGE), 200)
                i += 1

        async def submitter(i: int) -> None:
            headers = {"Authorization": f"Bearer {fixture.tokens[i]}"}
            n = 0
            while time.monotonic() < deadline:
                body = fixture.files[i][n % len(fixture.files[i])]
                files = {"file": (f"load-{i}-{n}.jsonl", body, "application/x-ndjson")}
                n += 1
                response = await timed(
                    "POST submission", client.post(SUBMIT, files=files, headers=headers), 201
                )
                if response is not None:
                    accepted[i].append(response.json()["id"])

        start = time.monotonic()
        await asyncio.gather(
            *(reader(i) for i in range(plan.readers)),
            *(submitter(i) for i in range(plan.submitters)),
        )
        return stats, accepted, time.monotonic() - start


def run(url: str, folder: Path, plan: Plan) -> dict[str, Any]:
    """The whole bench on one database; its figures and checks."""
    setup = time.perf_counter()
    fixture = prepare(url, folder, plan)
    setup_s = time.perf_counter() - setup
    load_before = os.getloadavg()
    with server(fixture, plan) as (base, procs):
        unloaded = alone(base)
        cpu_before = [_cpu_s(p.pid) for p in procs]
        client_cpu = time.process_time()
        # a thread of its own: the caller may already run an event loop (pytest with Playwright's)
        with ThreadPoolExecutor(1) as loop_thread:
            running = loop_thread.submit(asyncio.run, drive(base, fixture, plan))
            stats, accepted, elapsed = running.result()
        client_cpu = time.process_time() - client_cpu
        load_after = os.getloadavg()
        drain_s = drain(url, plan.drain_timeout_s)
        board = _get(base, LEADERBOARD_API).json()["rows"]
        cpu = [round(_cpu_s(p.pid) - c, 1) for p, c in zip(procs, cpu_before, strict=True)]
        exited = [p.poll() for p in procs]
    checks = verify(url, accepted, board)
    return {
        "database": url.split(":", 1)[0].split("+")[0],
        "plan": asdict(plan),
        "setup_s": round(setup_s, 1),
        "elapsed_s": round(elapsed, 1),
        "drain_s": round(drain_s, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpu_s": {"server": cpu[0], "workers": cpu[1:], "client": round(client_cpu, 1)},
        "processes_alive": all(code is None for code in exited),
        "endpoints": {
            name: {**e.summary(elapsed), "alone_p50_ms": unloaded.get(name)}
            for name, e in stats.items()
        },
        "checks": checks,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--readers", type=int, default=Plan.readers)
    ap.add_argument("--submitters", type=int, default=Plan.submitters)
    ap.add_argument("--duration", type=float, default=Plan.duration_s, help="seconds of load")
    ap.add_argument("--workers", type=int, default=Plan.workers, help="worker processes")
    ap.add_argument("--processes", type=int, default=Plan.processes, help="server processes")
    ap.add_argument("--seed-teams", type=int, default=Plan.seed_teams)
    ap.add_argument("--quick", action="store_true", help="smoke run: 20 readers, 4 submitters, 5 s")
    ap.add_argument("--output", type=Path, default=ROOT / "build" / "bench-load")
    args = ap.parse_args()
    plan = Plan(args.readers, args.submitters, args.duration, args.workers, args.seed_teams,
                processes=args.processes)  # fmt: skip
    if args.quick:
        plan = Plan(readers=20, submitters=4, duration_s=5, workers=args.workers, seed_teams=5,
                    processes=args.processes)  # fmt: skip
    args.output.mkdir(parents=True, exist_ok=True)
    ok = True
    for engine in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        folder = Path(tempfile.mkdtemp(prefix=f"palmares-load-{engine}-"))
        if engine == "sqlite":
            result = run(f"sqlite:///{folder / 'palmares.db'}", folder, plan)
        else:
            with postgres_schema() as url:
                result = run(url, folder, plan)
        result["logs"] = str(folder)
        text = table(result)
        print(text, flush=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (args.output / f"load-{engine}-{stamp}.json").write_text(
            json.dumps(result, indent=1), "utf-8"
        )
        (args.output / f"load-{engine}-{stamp}.md").write_text(text + "\n", "utf-8")
        ok = ok and passed(result)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
