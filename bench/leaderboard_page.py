"""Bench: the leaderboard page with 200 scored runs, server time on SQLite (goal: < 300 ms).

Builds a campaign on the bundled avis-fr task with 200 teams, one scored submission each
(scored by the real worker; team i answers like the baseline with a seeded random share of its
answers flipped, so that the teams differ), then times, in the same process, interleaved rounds
of:

  a. the raw query of the 200 score rows (baseline: what any page must read),
  b0. ``leaderboard(significance=False)``: the ranking with intervals (service layer),
  b. ``leaderboard()``: the same with each row's rank interval and group (issue #6: the stored
     bootstrap replicates of the 200 submissions read; their comparison cached by a digest of
     them, as between two views of a board that has not changed),
  b1. the same with that cache emptied first: ranked, all 19,900 pairs tested, Holm, letters,
  c. ``GET /campaigns/1/tasks/avis-fr/leaderboard``: the whole page (template, SVG forest plot),
     through FastAPI's in-process client;
  c1. the same with the comparison's cache emptied first (a board that has just changed).

Usage: ``.venv/bin/python bench/leaderboard_page.py [--runs 200] [--repeat 15]``
"""

from __future__ import annotations

import argparse
import json
import random
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
    from palmares.campaigns.significance import _COMPARED
    from palmares.store import ScoreRecord
    from palmares.web import Settings, create_app

    folder = Path(tempfile.mkdtemp())
    app = create_app(Settings(db=f"sqlite:///{folder / 'p.db'}", artifacts=str(folder / "a")))
    db, artifacts = app.state.db, app.state.artifacts
    create_campaign(db, open_campaign_file(folder, quota=args.runs + 1))
    start = time.perf_counter()
    baseline = [
        json.loads(x) for x in (EXAMPLE / "baseline.jsonl").read_text("utf-8").split("\n") if x
    ]
    rng = random.Random(20261127)
    for i in range(args.runs):
        token = join(db, f"user{i}", f"team-{i:03d}")
        share = rng.random() * 0.5
        rows = [
            {**r, "prediction": ("négatif" if r["prediction"] == "positif" else "positif")}
            if rng.random() < share
            else r
            for r in baseline
        ]
        path = folder / f"p{i}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        submit_predictions(db, artifacts, token, 1, "avis-fr", path)
    while run_one(db, artifacts) is not None:
        pass
    print(f"setup: {args.runs} teams, submissions scored in {time.perf_counter() - start:.1f} s")
    web = TestClient(app)

    def raw() -> None:
        with db() as s:
            s.scalars(select(ScoreRecord)).all()

    def plain() -> None:
        leaderboard(db, 1, "avis-fr", "dev", significance=False)

    def service() -> None:
        leaderboard(db, 1, "avis-fr", "dev")

    def uncached() -> None:
        _COMPARED.clear()
        leaderboard(db, 1, "avis-fr", "dev")

    def page() -> None:
        assert web.get("/campaigns/1/tasks/avis-fr/leaderboard?phase=dev").status_code == 200

    def page_uncached() -> None:
        _COMPARED.clear()
        page()

    steps = {
        "a raw rows": raw,
        "b0 no significance": plain,
        "b leaderboard()": service,
        "b1 cache emptied": uncached,
        "c page": page,
        "c1 page, cache emptied": page_uncached,
    }
    times: dict[str, list[float]] = {k: [] for k in steps}
    t = time.perf_counter()
    page()
    print(f"first page view (cold process caches): {(time.perf_counter() - t) * 1000:.0f} ms")
    board = leaderboard(db, 1, "avis-fr", "dev")
    groups = {r["group"] for r in board}
    widths = [r["rank_interval"][1] - r["rank_interval"][0] + 1 for r in board]
    print(
        f"board: {len(board)} rows, {len(groups)} distinct groups"
        f" ({'shown' if None not in groups else 'too many letters: not shown'}), "
        f"median rank-interval width {statistics.median(widths)}"
    )
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
        print(f"{name:<24} {median * 1000:8.1f} ms   × {median / base:5.1f} (a)")
    verdict = statistics.median(times["c page"]) * 1000
    outcome = "met" if verdict < 300 else "NOT met"
    print(f"page with {args.runs} runs: {verdict:.0f} ms — goal < 300 ms: {outcome}")


if __name__ == "__main__":
    main()
