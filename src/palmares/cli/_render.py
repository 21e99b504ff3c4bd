"""Rich rendering of scores: every value with its interval and n."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from palmares.core import Score
from palmares.engine import RunResult

_console: Console | None = None


def console() -> Console:
    global _console
    if _console is None:
        _console = Console(highlight=False)
    return _console


def fmt(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.4g}" if abs(x) >= 100 else f"{x:.3f}"


def fmt_ci(score: Score) -> str:
    if score.ci is None:
        return "n/a (n < 2)"
    return f"[{fmt(score.ci[0])}, {fmt(score.ci[1])}]"


def results_table(result: RunResult, primary: str) -> Table:
    pct = round(result.statistics.get("confidence", 0.95) * 100)
    table = Table(title=None, show_edge=False, pad_edge=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column(f"{pct}% CI", justify="right")
    table.add_column("n", justify="right")
    for name, score in result.table.scores.items():
        label = f"[bold]{escape(name)}[/]" if name == primary else escape(name)
        table.add_row(label, fmt(score.value), fmt_ci(score), f"{score.n:,}")
    for field, by_value in result.table.slices.items():
        table.add_section()
        for value, scores in by_value.items():
            for name, score in scores.items():
                table.add_row(
                    escape(f"  {field}={value} · {name}"),
                    fmt(score.value),
                    fmt_ci(score),
                    f"{score.n:,}",
                )
    return table
