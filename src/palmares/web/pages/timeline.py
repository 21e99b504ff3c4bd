"""Time on the pages: phase states and countdowns, and two inline SVG figures drawn on the
server (readable without JavaScript, nothing to vendor): the campaigns of a challenge on a
timeline, and progress from one campaign to the next on anchor items.

Every figure says in text what its shapes say (phase kinds and dates as labels, team names at
both ends of their lines), so nothing rests on colour; each has ``role="img"`` and a
``<title>``, and the page puts the same numbers in a table. Text is escaped: campaign titles
and team names are user input. Styling is by class (``palmares.css``): the CSP forbids inline
styles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from markupsafe import Markup, escape

State = Literal["upcoming", "open", "ended"]


def phase_state(start: datetime, end: datetime, now: datetime) -> State:
    if now < start:
        return "upcoming"
    return "open" if now < end else "ended"


def remaining(delta: timedelta) -> list[tuple[int, str]]:
    """A duration as its two largest units (``[(2, "d"), (3, "h")]``), as countdown.js shows
    it; the page translates the unit keys (d, h, min, s)."""
    seconds = max(0, int(delta.total_seconds()))
    parts = [
        (seconds // 86400, "d"),
        (seconds % 86400 // 3600, "h"),
        (seconds % 3600 // 60, "min"),
        (seconds % 60, "s"),
    ]
    while len(parts) > 2 and parts[0][0] == 0:
        parts.pop(0)
    return parts[:2]


def day_label(moment: datetime, end: bool = False) -> str:
    """A moment as people read it (UTC): a bare date at midnight; an end at midnight is shown
    as the day before, the phase's last day (a YAML ``end: 2027-04-15`` ends at the start of
    the 16th)."""
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return (moment - timedelta(days=1) if end else moment).date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def phase_view(phase: Any, now: datetime) -> dict[str, Any]:
    """What the pages show of a :class:`~palmares.store.Phase`."""
    state = phase_state(phase.starts_at, phase.ends_at, now)
    target = phase.starts_at if state == "upcoming" else phase.ends_at
    return {
        "kind": phase.kind,
        "start": phase.starts_at.isoformat(),
        "end": phase.ends_at.isoformat(),
        "start_label": day_label(phase.starts_at),
        "end_label": day_label(phase.ends_at, end=True),
        "state": state,
        "countdown_to": target.isoformat(),
        "countdown": [] if state == "ended" else remaining(target - now),
        "feedback": phase.feedback,
        "leaderboard": phase.leaderboard,
        "quota_per_day": phase.quota_per_day,
        "quota_total": phase.quota_total,
        "accepts": list(phase.accepts),
    }


# --- the challenge's timeline ---------------------------------------------------------------

WIDTH = 420  # narrow enough to stay readable once scaled to a phone's width
LEFT = 8  # the time axis spans the width: campaign titles sit above their phases
TOP = 34  # room for the "today" label
TITLE = 22  # a campaign's title line
LANE = 32  # one lane per phase: its label, then its bar
GAP = 10  # between campaigns
AXIS = 34
CHAR = 7.3  # mean width of a character at font-size 13, to keep labels inside the figure


@dataclass(frozen=True)
class Span:
    kind: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Lane:
    title: str
    spans: list[Span] = field(default_factory=list)


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _ticks(low: datetime, high: datetime) -> list[tuple[datetime, str]]:
    """Month, quarter or year starts between ``low`` and ``high``, as fits the span."""
    days = (high - low).days
    step, fmt = (1, "%Y-%m") if days <= 400 else (3, "%Y-%m") if days <= 1100 else (12, "%Y")
    year, month = low.year, low.month
    out: list[tuple[datetime, str]] = []
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        moment = low.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
        moment = moment.replace(microsecond=0)
        if moment > high:
            return out
        if (month - 1) % step == 0:
            out.append((moment, moment.strftime(fmt)))


def timeline_svg(lanes: list[Lane], now: datetime, title: str, today: str) -> Markup:
    """One block per campaign (its title, then one lane per phase: the label ``kind · first
    day → last day`` above its bar), a dashed line at ``now`` labelled ``today`` (or an arrow
    at the edge it lies beyond)."""
    spans = [s for lane in lanes for s in lane.spans]
    if not spans:
        return Markup("")
    low, high = min(s.start for s in spans), max(s.end for s in spans)
    pad = (high - low) * 0.02
    low, high = low - pad, high + pad
    plot = WIDTH - 2 * LEFT

    def x(moment: datetime) -> float:
        return LEFT + (moment - low) / (high - low) * plot

    height = TOP + sum(TITLE + max(1, len(lane.spans)) * LANE + GAP for lane in lanes) + AXIS
    parts = [
        f'<svg class="timeline" role="img" aria-labelledby="timeline-title" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">',
        f'<title id="timeline-title">{escape(title)}</title>',
    ]
    y = TOP
    for i, lane in enumerate(lanes):
        rows = max(1, len(lane.spans))
        block = TITLE + rows * LANE
        if i % 2:
            parts.append(
                f'<rect class="band" x="0" y="{y - GAP / 2:.1f}" width="{WIDTH}" '
                f'height="{block + GAP}" />'
            )
        chars = int((WIDTH - 2 * LEFT) / (CHAR * 1.1))
        parts.append(
            f'<text class="lane" x="{LEFT}" y="{y + 15}">{escape(_short(lane.title, chars))}</text>'
        )
        for j, span in enumerate(sorted(lane.spans, key=lambda s: s.start)):
            top = y + TITLE + j * LANE
            x0, x1 = x(span.start), max(x(span.end), x(span.start) + 3)
            label = f"{span.kind} · {day_label(span.start)} → {day_label(span.end, end=True)}"
            # above its bar, from the bar's start, slid left as far as needed to stay inside
            lx = max(LEFT, min(x0, WIDTH - LEFT - len(label) * CHAR))
            parts.append(f'<text class="span" x="{lx:.1f}" y="{top + 11}">{escape(label)}</text>')
            parts.append(
                f'<rect class="phase phase-{escape(span.kind)}" x="{x0:.1f}" y="{top + 15}" '
                f'width="{x1 - x0:.1f}" height="11" />'
            )
        y += block + GAP
    axis = y + 2
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT + plot}" y1="{axis}" y2="{axis}" />')
    last = -1e9
    for moment, text in _ticks(low, high):
        tx = x(moment)
        parts.append(
            f'<line class="axis" x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis}" y2="{axis + 4}" />'
        )
        inside = LEFT + 24 <= tx <= WIDTH - LEFT - 24
        if tx - last >= 60 and inside:  # skip labels that would collide or be cut
            parts.append(
                f'<text class="tick" x="{tx:.1f}" y="{axis + 17}" '
                f'text-anchor="middle">{text}</text>'
            )
            last = tx
    marker = f"{today} ({now.date().isoformat()})"
    if low <= now <= high:
        nx = x(now)
        anchor = "start" if nx < LEFT + 90 else "end" if nx > WIDTH - 90 else "middle"
        parts.append(
            f'<line class="today" x1="{nx:.1f}" x2="{nx:.1f}" y1="{TOP - 10}" y2="{axis}" '
            f'stroke-dasharray="4 3" />'
            f'<text class="today" x="{nx:.1f}" y="{TOP - 16}" text-anchor="{anchor}">'
            f"{escape(marker)}</text>"
        )
    elif now < low:
        parts.append(f'<text class="today" x="{LEFT}" y="{TOP - 16}">◀ {escape(marker)}</text>')
    else:
        parts.append(
            f'<text class="today" x="{WIDTH - LEFT}" y="{TOP - 16}" text-anchor="end">'
            f"{escape(marker)} ▶</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# --- progress on anchor items ---------------------------------------------------------------

P_WIDTH = 680
P_TOP = 44
P_X = (262, 462)  # the earlier and the later campaign's column
MIN_GAP = 13  # between two team labels


def _spread(wanted: list[float], low: float, high: float) -> list[float]:
    """Label positions near ``wanted`` (sorted), at least MIN_GAP apart, inside [low, high]."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, placed[-1] + MIN_GAP) if placed else max(y, low))
    overflow = placed[-1] - high if placed else 0.0
    if overflow > 0:  # pushed past the bottom: slide them all up, as far as the top allows
        placed = [p - overflow for p in placed]
        for i in range(len(placed)):
            floor = low if i == 0 else placed[i - 1] + MIN_GAP
            placed[i] = max(placed[i], floor)
    return placed


def progress_svg(
    rows: list[dict[str, Any]],
    columns: tuple[str, str],
    titles: tuple[str, str],
    title: str,
    ident: str,
) -> Markup:
    """A slope chart: each team's value and 95 % interval at the earlier and the later
    campaign (``columns``: their slugs, as ``rows[i]["campaign"]``), joined by a line and
    named at both ends. ``ident`` makes the title's id unique on the page."""
    points = [r for r in rows if r.get("value") is not None]
    if not points:
        return Markup("")
    teams = sorted({r["team"] for r in points})
    spans = [
        float(v) for r in points for v in (r.get("ci") or [r["value"], r["value"]]) if v is not None
    ]
    spans += [float(r["value"]) for r in points]
    low, high = min(spans), max(spans)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    pad = (high - low) * 0.06
    low, high = low - pad, high + pad
    plot_h = max(220, MIN_GAP * len(teams) + 20)
    height = P_TOP + plot_h + 24

    def y(value: float) -> float:
        return P_TOP + (high - value) / (high - low) * plot_h

    # teams side by side within a column, so equal intervals do not hide each other
    offset = {
        t: (i - (len(teams) - 1) / 2) * min(6.0, 60 / max(1, len(teams)))
        for i, t in enumerate(teams)
    }
    at = {(r["campaign"], r["team"]): r for r in points}
    parts = [
        f'<svg class="progress" role="img" aria-labelledby="{escape(ident)}" '
        f'width="{P_WIDTH}" height="{height}" viewBox="0 0 {P_WIDTH} {height}">',
        f'<title id="{escape(ident)}">{escape(title)}</title>',
    ]
    for k in range(5):  # value axis
        value = low + (high - low) * k / 4
        gy = y(value)
        parts.append(
            f'<line class="grid" x1="60" x2="{P_WIDTH - 10}" y1="{gy:.1f}" y2="{gy:.1f}" />'
            f'<text class="tick" x="56" y="{gy + 4:.1f}" text-anchor="end">{value:.3f}</text>'
        )
    # the two titles grow outwards from their columns, so long ones do not run into each other
    for column, text, anchor in zip(P_X, titles, ("end", "start"), strict=True):
        parts.append(
            f'<text class="column" x="{column + (20 if anchor == "end" else -20)}" '
            f'y="{P_TOP - 24}" text-anchor="{anchor}">{escape(_short(text, 32))}</text>'
        )
    for team in teams:
        ends = [
            (P_X[i] + offset[team], at[(slug, team)])
            for i, slug in enumerate(columns)
            if (slug, team) in at
        ]
        if len(ends) == 2:
            (xa, a), (xb, b) = ends
            parts.append(
                f'<line class="slope" x1="{xa:.1f}" y1="{y(a["value"]):.1f}" '
                f'x2="{xb:.1f}" y2="{y(b["value"]):.1f}" />'
            )
        for cx, row in ends:
            ci = row.get("ci")
            if ci and None not in ci:
                parts.append(
                    f'<line class="ci" x1="{cx:.1f}" x2="{cx:.1f}" '
                    f'y1="{y(ci[0]):.1f}" y2="{y(ci[1]):.1f}" />'
                )
            cy = y(row["value"])
            if row["campaign"] == columns[0]:  # a dot before, a square after: shape, not colour
                parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" />')
            else:
                parts.append(f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" />')
    for side, slug in enumerate(columns):  # team names beside each column, kept apart
        here = sorted((y(at[(slug, t)]["value"]), t) for t in teams if (slug, t) in at)
        placed = _spread([p for p, _ in here], P_TOP, P_TOP + plot_h)
        for (wanted, team), ly in zip(here, placed, strict=True):
            name = escape(_short(team, 26))
            if side == 0:
                lx, anchor, px = P_X[0] - 40, "end", P_X[0] - 36
            else:
                lx, anchor, px = P_X[1] + 40, "start", P_X[1] + 36
            if abs(ly - wanted) > 3:  # moved off its point: a leader line says whose it is
                parts.append(
                    f'<line class="leader" x1="{px}" y1="{ly:.1f}" '
                    f'x2="{P_X[side] + offset[team]:.1f}" y2="{wanted:.1f}" />'
                )
            parts.append(
                f'<text class="team" x="{lx}" y="{ly + 4:.1f}" text-anchor="{anchor}">{name}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
