"""A forest plot of leaderboard intervals, as inline SVG drawn on the server (readable without
JavaScript, no charting library to vendor), each row's significance group at its right. Labels
are escaped: team and system names are user input."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

ROW_HEIGHT = 22
LABEL_WIDTH = 220
PLOT_WIDTH = 360
GROUP_WIDTH = 60  # the column of group letters, right of the axis


def forest_plot(rows: list[dict[str, Any]], title: str) -> Markup:
    """One line per row: its interval as a segment, its value as a dot, on a shared axis. A
    value or bound that could not be computed (None) is left out, the row's label kept."""
    spans = [r["ci"] for r in rows if _known(r.get("ci"))]
    spans += [[r["value"], r["value"]] for r in rows if r["value"] is not None]
    if not spans:
        return Markup("")
    low = float(min(s[0] for s in spans))
    high = float(max(s[1] for s in spans))
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad

    def x(value: float) -> float:
        return float(LABEL_WIDTH + (value - low) / (high - low) * PLOT_WIDTH)

    height = ROW_HEIGHT * (len(rows) + 1)
    width = LABEL_WIDTH + PLOT_WIDTH + 20 + GROUP_WIDTH
    parts = [
        f'<svg class="forest" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, row in enumerate(rows):
        y = ROW_HEIGHT * (i + 0.5)
        label = f"{row['rank']}. {row['team']}" + (
            f" · {row['system']}" if row.get("system") else ""
        )
        if len(label) > 34:  # keep it left of the axis; the table beside has it in full
            label = label[:33] + "…"
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="12">{escape(label)}</text>')
        if _known(row.get("ci")):
            parts.append(
                f'<line class="ci" x1="{x(row["ci"][0]):.1f}" x2="{x(row["ci"][1]):.1f}" '
                f'y1="{y:.1f}" y2="{y:.1f}" />'
            )
        if row["value"] is not None:
            parts.append(f'<circle cx="{x(row["value"]):.1f}" cy="{y:.1f}" r="4" />')
        if row.get("group"):
            parts.append(
                f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 20}" y="{y + 4:.1f}" font-size="12">'
                f'<tspan class="group">{escape(row["group"])}</tspan></text>'
            )
    axis_y = ROW_HEIGHT * len(rows) + 6
    parts.append(
        f'<text x="{LABEL_WIDTH}" y="{axis_y + 10}" font-size="11">{low:.3f}</text>'
        f'<text x="{LABEL_WIDTH + PLOT_WIDTH - 30}" y="{axis_y + 10}" '
        f'font-size="11">{high:.3f}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _known(ci: Any) -> bool:
    return bool(ci) and ci[0] is not None and ci[1] is not None
