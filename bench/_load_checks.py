"""What a run of ``bench/load.py`` must leave behind, checked in the database and on the final
leaderboard, and how a run is reported (a Markdown table)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any


def drain(url: str, timeout_s: float) -> float:
    """Seconds until no job is queued or running (raises past ``timeout_s``)."""
    from sqlalchemy import func, select

    from palmares.store import Job, open_engine, sessions

    engine = open_engine(url)
    db, start = sessions(engine), time.monotonic()
    try:
        while True:
            with db() as s:
                left = s.scalar(select(func.count()).where(Job.status.in_(["queued", "running"])))
            if not left:
                return time.monotonic() - start
            if time.monotonic() - start > timeout_s:
                raise RuntimeError(f"{left} jobs still queued or running after {timeout_s:.0f} s")
            time.sleep(0.5)
    finally:
        engine.dispose()


def verify(url: str, accepted: list[list[str]], board: list[dict[str, Any]]) -> dict[str, Any]:
    """What the database and the final leaderboard (``board``, its API's rows) hold against
    what the clients were told; each check a boolean."""
    from sqlalchemy import select

    from palmares.campaigns import verify as verify_audit
    from palmares.store import (
        AuditEvent,
        Job,
        QuotaUsage,
        ScoreRecord,
        Submission,
        Team,
        open_engine,
        sessions,
    )

    engine = open_engine(url)
    db = sessions(engine)
    told = [sid for ids in accepted for sid in ids]
    with db() as s:
        teams = {name: tid for name, tid in s.execute(select(Team.name, Team.id))}
        load_teams = [teams[f"load-{i:03d}"] for i in range(len(accepted))]
        rows = s.execute(
            select(Submission.id, Submission.team_id, Submission.status).where(
                Submission.team_id.in_(load_teams)
            )
        ).all()
        scores = Counter(s.scalars(select(ScoreRecord.submission_id)).all())
        jobs = {j.submission_id: j for j in s.scalars(select(Job))}
        events = Counter(
            (e.action, e.payload.get("submission"))
            for e in s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action.in_(["submission.create", "submission.score"])
                )
            )
        )
        usage = s.execute(
            select(QuotaUsage.team_id, QuotaUsage.period, QuotaUsage.used).where(
                QuotaUsage.team_id.in_(load_teams)
            )
        ).all()
    audit = verify_audit(db)
    engine.dispose()
    stored = {r.id for r in rows}
    seeded = [name for name in teams if name.startswith("seed-")]
    latest = {f"load-{i:03d}": ids[-1] for i, ids in enumerate(accepted) if ids}
    per_team = Counter(r.team_id for r in rows)
    total = {t: used for t, period, used in usage if period == "total"}
    daily = Counter({t: 0 for t in load_teams})
    for t, period, used in usage:
        if period != "total":
            daily[t] += used
    checks = {
        "accepted": len(told),
        "ids unique": len(set(told)) == len(told),
        "submissions rows == accepted": stored == set(told),
        "all scored": all(r.status == "scored" for r in rows),
        "one score row each": all(scores[sid] == 1 for sid in told),
        "one score event each": all(events[("submission.score", sid)] == 1 for sid in told),
        "one create event each": all(events[("submission.create", sid)] == 1 for sid in told),
        "jobs done, first attempt": all(
            sid in jobs and jobs[sid].status == "done" and jobs[sid].attempts == 1 for sid in told
        ),
        "jobs retried": sum(1 for sid in told if sid in jobs and jobs[sid].attempts > 1),
        "quota total == accepted": all(
            total.get(t, 0) == len(ids) == per_team[t]
            for t, ids in zip(load_teams, accepted, strict=True)
        ),
        "quota per day == accepted": all(
            daily[t] == len(ids) for t, ids in zip(load_teams, accepted, strict=True)
        ),
        "audit chain intact": audit.ok,
        # each team ranked once, on its latest submission
        "board: latest of each team": sorted(r["team"] for r in board)
        == sorted([*seeded, *(f"load-{i:03d}" for i, ids in enumerate(accepted) if ids)])
        and all(latest[r["team"]] == r["submission"] for r in board if r["team"] in latest),
    }
    return checks


def passed(result: dict[str, Any]) -> bool:
    """0 errors, and every submission accounted for."""
    errors = sum(e["errors"] for e in result["endpoints"].values())
    checks = result["checks"]
    return (
        errors == 0
        and result["processes_alive"]
        and all(v for k, v in checks.items() if isinstance(v, bool))
        and checks["accepted"] > 0
    )


def table(result: dict[str, Any]) -> str:
    plan = result["plan"]
    lines = [
        f"### {result['database']}: {plan['readers']} readers, {plan['submitters']} submitters, "
        f"{plan['duration_s']:.0f} s, {plan['workers']} worker process(es), "
        f"{plan.get('processes', 1)} server process(es)",
        "",
        "| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | max ms | req/s | alone p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in result["endpoints"].items():
        lines.append(
            f"| {name} | {e['count']} | {e['errors']} | {e['p50_ms']} | {e['p95_ms']} | "
            f"{e['p99_ms']} | {e['max_ms']} | {e['per_s']} | {e['alone_p50_ms'] or '—'} |"
        )
        lines += [f"|  ↳ {kind} | | {n} | | | | | | |" for kind, n in e["error_kinds"].items()]
    lines += [
        "",
        f"queue drained {result['drain_s']} s after the load; CPU s: server "
        f"{result['cpu_s']['server']}, workers {result['cpu_s']['workers']}, this client "
        f"{result['cpu_s']['client']}; load average "
        f"before {result['load_average_before']}, at the end {result['load_average_after']}",
        "checks: "
        + ", ".join(
            f"{k}: {'✓' if v is True else '✗' if v is False else v}"
            for k, v in result["checks"].items()
        ),
        f"verdict: {'PASS' if passed(result) else 'FAIL'}",
    ]
    return "\n".join(lines)
