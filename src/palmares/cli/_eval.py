"""``palmares eval``: score one system on one task."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from palmares.cli._main import cli, reports_input_errors
from palmares.cli._render import console, results_table
from palmares.core import StatisticsSpec
from palmares.engine import Scorer
from palmares.tasks import load_task


@cli.command("eval")
@click.option(
    "--task", "task_path", required=True, type=click.Path(dir_okay=False), help="task YAML file"
)
@click.option(
    "--predictions",
    required=True,
    type=click.Path(dir_okay=False),
    help="predictions file (.jsonl, .csv or .tsv)",
)
@click.option("--split", default=None, help="dataset split (default: test, or the only one)")
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="folder for results.json and items.jsonl (default: runs/TASK/TIME)",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(100, 100_000),
    default=None,
    help="bootstrap resamples for corpus metrics (default: the task's, 1000)",
)
@click.option("--seed", type=int, default=None, help="bootstrap seed (default: the task's, 0)")
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 1, min_open=True, max_open=True),
    default=None,
    help="confidence level of the intervals (default 0.95)",
)
@reports_input_errors
def eval_command(
    task_path: str,
    predictions: str,
    split: str | None,
    output: str | None,
    bootstrap: int | None,
    seed: int | None,
    confidence: float | None,
) -> None:
    """Score PREDICTIONS on TASK: every metric with its confidence interval, per slice too."""
    task = load_task(task_path)
    overrides = {
        k: v
        for k, v in {"bootstrap": bootstrap, "seed": seed, "confidence": confidence}.items()
        if v is not None
    }
    stats = task.spec.statistics.model_copy(update=overrides)
    StatisticsSpec.model_validate(stats.model_dump())
    scorer = Scorer(task, split, stats)
    result = scorer.score_file(predictions)
    out = (
        Path(output)
        if output
        else Path("runs") / task.spec.id / datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S")
    )
    result.write(out)
    spec = task.spec
    console().print(
        f"[bold]{spec.id}[/] v{spec.version} · {len(scorer.items):,} items · split "
        f"{scorer.split} · predictions {result.predictions_hash[:12]}"
    )
    console().print(results_table(result, spec.primary_metric))
    console().print(f"results → {out / 'results.json'} (+ items.jsonl)")
