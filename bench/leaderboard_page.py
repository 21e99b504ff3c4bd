"""Bench: the leaderboard page with 200 scored runs, server time on SQLite (goal: < 300 ms).

Builds a campaign on the bundled avis-fr task with 200 teams, one scored submission each
(scored by the real worker), then times, in the same process, interleaved rounds of:

  a. the raw query of the 200 score rows (baseline: what any page must read),
  b. ``leaderboard()``: the ranking with intervals (service layer),
  c. ``GET /campaigns/1/tasks/avis-fr/leaderboard``: the whole page (template, SVG forest plot),
     through FastAPI's in-process client.

Usage: ``.venv/bin/python bench/leaderboard_page.py [--runs 200] [--repeat 15]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    from fastapi.testclient import TestClient
    from sqlalchemy import select
    from tests.campaigns.conftest import EXAMPLE, join, open_campaign_file

    from palmares.campaigns import create_campaign, leaderboard, run_one, submit_predictions
    from palmares.store import ScoreRecord
    from palmares.web import Settings, create_app

    folder = Path(tempfile.mkdtemp())
    app = create_app(Settings(db=f"sqlite:///{folder / 'p.db'}", artifacts=str(folder / "a")))
    db, artifacts = app.state.db, app.state.artifacts
    create_campaign(db, open_campaign_file(folder, quota=args.runs + 1))
    start = time.perf_counter()
    for i in range(args.runs):
        token = join(db, f"user{i}", f"team-{i:03d}")
        submit_predictions(db, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl")
    while run_one(db, artifacts) is not None:
        pass
    print(f"setup: {args.runs} teams, submissions scored in {time.perf_counter() - start:.1f} s")
    web = TestClient(app)

    def raw() -> None:
        with db() as s:
            s.scalars(select(ScoreRecord)).all()

    def service() -> None:
        leaderboard(db, 1, "avis-fr", "dev")

    def page() -> None:
        assert web.get("/campaigns/1/tasks/avis-fr/leaderboard?phase=dev").status_code == 200

    steps = {"a raw rows": raw, "b leaderboard()": service, "c page": page}
    times: dict[str, list[float]] = {k: [] for k in steps}
    for fn in steps.values():
        fn()  # warm-up
    for _ in range(args.repeat):
        for name, fn in steps.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["a raw rows"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<18} {median * 1000:8.1f} ms   × {median / base:5.1f} (a)")
    verdict = statistics.median(times["c page"]) * 1000
    outcome = "met" if verdict < 300 else "NOT met"
    print(f"page with {args.runs} runs: {verdict:.0f} ms — goal < 300 ms: {outcome}")


if __name__ == "__main__":
    main()
