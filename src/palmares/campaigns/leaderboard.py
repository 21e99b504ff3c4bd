"""Leaderboards: per phase and task, each team's latest scored submission, with its interval.

``part="public"`` is what is shown during the phase; ``part="private"`` decides the final ranking.
Teams are ranked by the rule of ``campaigns.verdicts`` (one for the API, the pages and the
snapshots): the primary metric's direction (or distance to its target), equal values sharing a
rank (``rank_label`` ``3=``), and from the paired tests each row's ``verdict``, ``below``,
``rank_interval`` and ``group``. Each row also carries its interval and its scores per slice
(``slices``), so a page can rank the same rows on one slice without a query.

Once a phase has ended and its board is frozen, :func:`shown_board` shows the latest snapshot
(``campaigns.snapshots``: a republished one supersedes the older), with its date and reason.

In a phase with ``ladder`` feedback, non-staff see on the public part, until the phase ends,
each team's *released* score instead (:func:`ladder_board`, ``campaigns.ladder``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.verdicts import Direction, board_rule, direction, order_rows
from palmares.metrics import metric_registry
from palmares.store import CampaignTask, Phase, ScoreRecord, Snapshot, Submission, System, Team
from palmares.store.models import LadderState


def public_board_withheld(phase: Phase, now: datetime) -> bool:
    """Is this phase's public ranking withheld from non-staff right now? (Its feedback or its
    leaderboard visibility says so, until the phase ends.)"""
    return phase.ends_at > now and (phase.feedback == "none" or phase.leaderboard == "hidden")


def leaderboard(
    db: sessionmaker[Session],
    campaign_id: int,
    task_id: str,
    phase_kind: str,
    part: Literal["public", "private"] = "public",
    *,
    significance: bool = True,
) -> list[dict[str, Any]]:
    """Each team's latest scored submission on the hidden split, ranked by the board's rule
    (``campaigns.verdicts``), with its interval, and (``significance``) its verdict, rank
    interval and group."""
    with db() as session:
        rows = session.execute(
            select(Submission, ScoreRecord, Team.name, System.name)
            .join(ScoreRecord, ScoreRecord.submission_id == Submission.id)
            .join(Team, Team.id == Submission.team_id)
            .outerjoin(System, System.id == Submission.system_id)
            .join(Phase, Phase.id == Submission.phase_id)
            .join(CampaignTask, CampaignTask.id == Submission.campaign_task_id)
            .where(
                Phase.campaign_id == campaign_id,
                Phase.kind == phase_kind,
                CampaignTask.task_id == task_id,
                Submission.split == "hidden",  # public-split submissions are never ranked
            )
            .order_by(Submission.created_at, Submission.id)
        ).all()
    latest: dict[str, tuple[Submission, ScoreRecord, str | None]] = {}
    for submission, record, team, system_name in rows:  # the system is None when not named
        latest[team] = (submission, record, system_name)  # later rows replace earlier ones
    board = []
    for team, (submission, record, system) in latest.items():
        stored = getattr(record, part)
        scores = stored["scores"]
        primary = scores[record.primary_metric]
        board.append(
            {
                "team": team,
                "system": system,
                "submission": submission.id,
                "metric": record.primary_metric,
                "value": primary["value"],
                "ci": primary["ci"],
                "n": primary["n"],
                "scores": scores,
                # already in the row read above: no extra query, and an empty dict for
                # records scored before slices were kept
                "slices": stored.get("slices", {}),
            }
        )
    return board_rule(db, board, part, compare=significance)


def ladder_board(
    db: sessionmaker[Session], campaign_id: int, task_id: str, phase_kind: str
) -> list[dict[str, Any]]:
    """The public board of a ``ladder`` phase: per team, the submission the Ladder last
    accepted and its released score (no interval, no other metric, no slice: they would show
    more of the public items than the Ladder releases), ranked by the board's rule on the
    released scores, the paired tests on those submissions' exact ones (a difference counts
    only in the order the released scores show)."""
    with db() as session:
        rows = session.execute(
            select(LadderState, ScoreRecord, Team.name, System.name)
            .join(Submission, Submission.id == LadderState.submission_id)
            .join(ScoreRecord, ScoreRecord.submission_id == LadderState.submission_id)
            .join(Team, Team.id == LadderState.team_id)
            .outerjoin(System, System.id == Submission.system_id)
            .join(Phase, Phase.id == LadderState.phase_id)
            .join(CampaignTask, CampaignTask.id == LadderState.campaign_task_id)
            .where(
                Phase.campaign_id == campaign_id,
                Phase.kind == phase_kind,
                CampaignTask.task_id == task_id,
            )
            .order_by(Team.name)
        ).all()
    board = []
    for state, record, team, system in rows:
        metric = record.primary_metric
        n = record.public["scores"][metric]["n"]
        released = float(state.released)
        board.append(
            {
                "team": team,
                "system": system,
                "submission": state.submission_id,
                "metric": metric,
                "value": released,
                "ci": None,
                "n": n,
                "scores": {metric: {"value": released, "ci": None, "n": n, "method": "ladder"}},
                "slices": {},
            }
        )
    return board_rule(db, board, "public")


def ladder_released(
    db: sessionmaker[Session], campaign_id: int, task_id: str, phase_kind: str
) -> dict[str, dict[str, Any]]:
    """Per team: the Ladder's released score and the submission it is for (for staff)."""
    with db() as session:
        rows = session.execute(
            select(Team.name, LadderState.submission_id, LadderState.released)
            .join(Team, Team.id == LadderState.team_id)
            .join(Phase, Phase.id == LadderState.phase_id)
            .join(CampaignTask, CampaignTask.id == LadderState.campaign_task_id)
            .where(
                Phase.campaign_id == campaign_id,
                Phase.kind == phase_kind,
                CampaignTask.task_id == task_id,
            )
        ).all()
    return {team: {"submission": sid, "released": value} for team, sid, value in rows}


def shows_ladder(phase: Phase, part: str, now: datetime, staff: bool) -> bool:
    """Does this viewer see the Ladder's released scores (rather than exact ones) here?"""
    return phase.feedback == "ladder" and part == "public" and not staff and phase.ends_at > now


@dataclass(frozen=True)
class Board:
    """A board as one viewer may see it: its ``rows`` (ruled by ``campaigns.verdicts``),
    whether they are the Ladder's released scores, the metric's ``direction`` and, for a frozen
    board, the snapshot shown (``frozen``: its id, ``created_at``, ``reason`` and the snapshot
    it ``supersedes``, or None for a live board)."""

    rows: list[dict[str, Any]]
    ladder: bool
    direction: Direction
    frozen: dict[str, Any] | None = None


def latest_snapshot(
    db: sessionmaker[Session], phase_id: int, task_id: str
) -> dict[str, Any] | None:
    """The latest snapshot of a phase's board of ``task_id`` (a republished snapshot supersedes
    the older ones), with its rows; None before the phase is frozen."""
    with db() as session:
        snapshot = session.scalar(
            select(Snapshot)
            .where(Snapshot.phase_id == phase_id, Snapshot.task_id == task_id)
            .order_by(Snapshot.id.desc())
            .limit(1)
        )
        if snapshot is None:
            return None
        older = None
        if snapshot.supersedes is not None:
            before = session.get(Snapshot, snapshot.supersedes)
            older = None if before is None else before.created_at.isoformat()
        return {
            "id": snapshot.id,
            "created_at": snapshot.created_at.isoformat(),
            "reason": snapshot.reason,
            "supersedes": snapshot.supersedes,
            "supersedes_created_at": older,
            "public": snapshot.public,
            "private": snapshot.private,
        }


def _frozen_rows(
    db: sessionmaker[Session], rows: list[dict[str, Any]], part: str
) -> list[dict[str, Any]]:
    """A snapshot's rows as shown: as frozen; a snapshot frozen before the rule existed (its
    rows without ``verdict``) gets the rule from its submissions' evidence."""
    rows = [dict(row) for row in rows]
    if rows and "verdict" not in rows[0]:
        board_rule(db, rows, part)
    return rows


def shown_board(
    db: sessionmaker[Session],
    campaign_id: int,
    task_id: str,
    phase: Phase,
    part: Literal["public", "private"],
    now: datetime,
    staff: bool,
) -> Board:
    """The board as this viewer may see it — the API and the pages both show this. An ended
    phase with a snapshot shows the latest one (to everyone); otherwise the live board: the
    Ladder's released scores where this viewer sees them; rounded values re-ranked by the
    rule (equal shown values share a rank); for staff under a ``ladder`` phase, each row's
    ``ladder`` (the team's released score and its submission)."""
    if phase.ends_at <= now:
        snapshot = latest_snapshot(db, phase.id, task_id)
        if snapshot is not None:
            rows = _frozen_rows(db, snapshot[part] or [], part)
            frozen = {k: v for k, v in snapshot.items() if k not in ("public", "private")}
            return Board(rows, False, _direction_of(rows), frozen)
    if shows_ladder(phase, part, now, staff):
        rows = ladder_board(db, campaign_id, task_id, phase.kind)
        return Board(rows, True, _direction_of(rows))
    exact = leaderboard(db, campaign_id, task_id, phase.kind, part)
    rows = as_shown(exact, phase, now, staff)
    if rows is not exact:
        board_rule(db, rows, part)  # ranked on the values shown
    if staff and phase.feedback == "ladder" and part == "public":
        released = ladder_released(db, campaign_id, task_id, phase.kind)
        rows = [{**row, "ladder": released.get(row["team"])} for row in rows]
    return Board(rows, False, _direction_of(rows))


def _direction_of(rows: list[dict[str, Any]]) -> Direction:
    return direction(rows[0]["metric"]) if rows else Direction()


def higher_is_better(metric: str) -> bool:
    """The direction of a metric named as in results (``ndcg@10``, ``f1[average=macro]``)."""
    name = metric.split("@")[0].split("[")[0]
    return metric_registry().get(name).higher_is_better if name in metric_registry() else True


def ranked(board: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``board`` sorted by ``value`` in the metric's direction (``campaigns.verdicts``), with
    ``rank`` (equal values share one), ``tied`` and ``rank_label`` set; a value that could not
    be computed (None) ranks last."""
    return order_rows(board, direction(board[0]["metric"])) if board else board


def slice_board(board: list[dict[str, Any]], field: str, value: str) -> list[dict[str, Any]]:
    """The rows ranked by their primary metric on the items whose ``field`` is ``value``: each
    with that slice's value, interval and n. Rows without that slice are left out."""
    out = []
    for row in board:
        score = row.get("slices", {}).get(field, {}).get(value, {}).get(row["metric"])
        if score is None:
            continue
        out.append(
            {
                "team": row["team"],
                "system": row["system"],
                "submission": row["submission"],
                "metric": row["metric"],
                "value": score["value"],
                "ci": score["ci"],
                "n": score["n"],
            }
        )
    return ranked(out)


def slice_options(board: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (field, value) slice found in the rows, sorted."""
    found = {
        (field, value)
        for row in board
        for field, by_value in row.get("slices", {}).items()
        for value in by_value
    }
    return sorted(found)


#: ``rounded`` feedback's step: 2 decimals, on scores of at least ``ROUNDED_MIN_ITEMS`` items
ROUNDING_STEP = 0.01
#: the fewest items a ``rounded`` score may have before its step widens: rounding hides a single
#: item only when one item moves the score by at most half a step (1/n ≤ step/2), so that every
#: shown value stands for at least two item counts. Below it (a slice, a small public part, a
#: phase switched to ``rounded`` from the console) the step widens; a campaign file whose public
#: part is smaller is refused (``service.create_campaign``).
ROUNDED_MIN_ITEMS = 200


def rounding_hundredths(n: int | None) -> int:
    """The step of a rounded score over ``n`` items, in hundredths: 1 (0.01) from
    :data:`ROUNDED_MIN_ITEMS` items up, else the smallest number of hundredths that is at least
    2/n (n = 17: 12, that is 0.12; one item weighs 0.059)."""
    if n is None or n >= ROUNDED_MIN_ITEMS:
        return 1
    return max(1, -(-200 // max(n, 1)))  # ceil(2/n / 0.01)


def _to_step(value: float, hundredths: int) -> float:
    if hundredths == 1 or not math.isfinite(value):
        return round(value, 2)
    # half up (not to even), with room for float error: each step then holds as many counts
    return round(math.floor(value * 100 / hundredths + 0.5 + 1e-9) * hundredths / 100, 2)


def round_score(score: dict[str, Any]) -> dict[str, Any]:
    """A score as ``rounded`` feedback shows it: value and interval to 2 decimals, or to a wider
    step when the score is over fewer than :data:`ROUNDED_MIN_ITEMS` items
    (:func:`rounding_hundredths`), so that no single item can be read off it."""
    value, ci = score.get("value"), score.get("ci")
    n = score.get("n")
    step = rounding_hundredths(n if isinstance(n, int) else None)
    return {
        **score,
        "value": None if value is None else _to_step(value, step),
        "ci": None if ci is None else [None if c is None else _to_step(c, step) for c in ci],
    }


def as_shown(
    board: list[dict[str, Any]], phase: Phase, now: datetime, staff: bool
) -> list[dict[str, Any]]:
    """The board as a viewer may see it: with ``rounded`` feedback, every value and interval is
    rounded to 2 decimals for non-staff until the phase ends — a team's own rounded scores would
    protect nothing if the public board showed them in full."""
    if staff or phase.feedback != "rounded" or phase.ends_at <= now:
        return board
    shown = []
    for row in board:
        scores = {name: round_score(s) for name, s in row["scores"].items()}
        slices = {
            field: {
                value: {n: round_score(s) for n, s in by.items()} for value, by in values.items()
            }
            for field, values in (row.get("slices") or {}).items()
        }
        primary = scores.get(row["metric"], {"value": row["value"], "ci": row["ci"]})
        shown.append(
            {
                **row,
                "scores": scores,
                "slices": slices,
                "value": primary["value"],
                "ci": primary["ci"],
            }
        )
    return shown
