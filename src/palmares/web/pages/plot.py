"""A forest plot of leaderboard intervals, as inline SVG drawn on the server (readable without
JavaScript, no charting library to vendor), each row's significance group at its right. Labels
are escaped: team and system names are user input.

Made to be read at phone width: each row's label sits above its interval (no column of names
eating the width), the figure is narrow (``WIDTH``) and scales down with the page (``viewBox``;
``palmares.css`` gives it ``max-width: 100%; height: auto``). The axis runs between round
numbers around the intervals (:func:`nice_axis`): a metric between 0 and 1 is never drawn
beyond them, and its ticks are numbers people read (0.25, 0.5… or 0.62, 0.64…)."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

WIDTH = 440
LEFT = 10  # the interval area starts here…
GROUP_WIDTH = 40  # …and ends before the column of group letters
ROW_HEIGHT = 38  # a label line, then the interval
TOP = 6
AXIS = 52  # room under the rows for ticks and the axis label
CHAR = 7.1  # mean width of a character at font-size 13, to shorten labels that would not fit


def nice_axis(low: float, high: float, ticks: int = 5) -> tuple[float, float, list[float]]:
    """Round bounds around ``[low, high]`` and the ticks between them, at a step of 1, 2, 2.5
    or 5 times a power of ten (about ``ticks`` of them). Values inside [0, 1] keep their axis
    inside [0, 1]: round numbers of a step that divides 1 never pass it."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("the axis needs finite bounds")
    if high - low < 1e-12:
        spread = abs(low) * 0.1 or 0.1
        low, high = low - spread, high + spread
    raw = (high - low) / max(1, ticks - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    count = round((end - start) / step)
    marks = [round(start + k * step, 12) for k in range(count + 1)]
    return marks[0], marks[-1], marks


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    scaled = step * 10**decimals
    if abs(scaled - round(scaled)) > 1e-6:  # 0.25: one more decimal
        decimals += 1
    return f"{value:.{decimals}f}"


def forest_plot(rows: list[dict[str, Any]], title: str) -> Markup:
    """One row per leaderboard line: its label, then its interval as a segment and its value as
    a dot, on a shared axis named after the metric. A value or bound that could not be computed
    (None) is left out, the row's label kept."""
    spans = [r["ci"] for r in rows if _known(r.get("ci"))]
    spans += [[r["value"], r["value"]] for r in rows if r.get("value") is not None]
    if not spans:
        return Markup("")
    low, high, marks = nice_axis(float(min(s[0] for s in spans)), float(max(s[1] for s in spans)))
    right = WIDTH - GROUP_WIDTH
    plot = right - LEFT

    def x(value: float) -> float:
        return float(LEFT + (min(max(value, low), high) - low) / (high - low) * plot)

    body = ROW_HEIGHT * len(rows)
    height = TOP + body + AXIS
    metric = next((str(r["metric"]) for r in rows if r.get("metric")), "")
    parts = [
        f'<svg class="forest" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(1, len(rows), 2):  # every other row on a light band
        parts.append(
            f'<rect class="stripe" x="0" y="{TOP + i * ROW_HEIGHT}" width="{WIDTH}" '
            f'height="{ROW_HEIGHT}" />'
        )
    for mark in marks:  # the grid, under the intervals
        parts.append(
            f'<line class="grid" x1="{x(mark):.1f}" x2="{x(mark):.1f}" y1="{TOP}" '
            f'y2="{TOP + body}" />'
        )
    for i, row in enumerate(rows):
        top = TOP + i * ROW_HEIGHT
        rank = row.get("rank_label") or f"{row['rank']}."  # "3=" for a shared rank
        label = f"{rank} {row['team']}" + (f" · {row['system']}" if row.get("system") else "")
        room = int((right - LEFT) / CHAR)
        if len(label) > room:  # the table beside the figure has it in full
            label = label[: room - 1] + "…"
        parts.append(f'<text class="label" x="{LEFT}" y="{top + 15}">{escape(label)}</text>')
        line_y = top + 27
        if _known(row.get("ci")):
            parts.append(
                f'<line class="ci" x1="{x(row["ci"][0]):.1f}" x2="{x(row["ci"][1]):.1f}" '
                f'y1="{line_y}" y2="{line_y}" />'
            )
        if row.get("value") is not None:
            parts.append(f'<circle cx="{x(row["value"]):.1f}" cy="{line_y}" r="4.5" />')
        if row.get("group"):
            parts.append(
                f'<text x="{WIDTH - GROUP_WIDTH / 2:.0f}" y="{line_y + 4}" text-anchor="middle">'
                f'<tspan class="group">{escape(row["group"])}</tspan></text>'
            )
    axis_y = TOP + body + 4
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{right}" y1="{axis_y}" y2="{axis_y}" />')
    step = marks[1] - marks[0] if len(marks) > 1 else 1.0
    for k, mark in enumerate(marks):
        anchor = "start" if k == 0 else "end" if k == len(marks) - 1 else "middle"
        parts.append(
            f'<line class="axis" x1="{x(mark):.1f}" x2="{x(mark):.1f}" y1="{axis_y}" '
            f'y2="{axis_y + 5}" />'
            f'<text class="tick" x="{x(mark):.1f}" y="{axis_y + 18}" text-anchor="{anchor}">'
            f"{_tick_label(mark, step)}</text>"
        )
    if metric:
        parts.append(
            f'<text class="axis-label" x="{LEFT + plot / 2:.1f}" y="{axis_y + 38}" '
            f'text-anchor="middle">{escape(metric)}</text>'
        )
    parts.append("</svg>")
    return Markup('<div class="forest-box">' + "".join(parts) + "</div>")


def _known(ci: Any) -> bool:
    return bool(ci) and ci[0] is not None and ci[1] is not None
