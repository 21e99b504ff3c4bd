"""``palmares eval``: score one system on one task or several — predictions files, or a model
run here. A task is a task file or a pack task id (``palmares tasks list``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from palmares.cli._main import cli, reports_input_errors, verbose_option
from palmares.cli._render import console, fmt, fmt_ci, results_table
from palmares.cli._run import run_model
from palmares.cli._tasks import open_task
from palmares.core import InputError, StatisticsSpec
from palmares.engine import RunResult, Scorer
from palmares.tasks import Task


@cli.command("eval")
@click.option(
    "--task",
    "task_names",
    required=True,
    multiple=True,
    metavar="TASK",
    help="a task file or a pack task id (palmares tasks list); repeatable, or comma-separated "
    "(--task arc-fr,culture-fr)",
)
@click.option(
    "--predictions",
    "predictions_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="predictions file (.jsonl, .csv or .tsv); one per task, in the order of the tasks",
)
@click.option(
    "--model",
    default=None,
    help="a model to run: llama:FILE.gguf or openai:http://HOST:PORT/v1#MODEL",
)
@click.option(
    "--model-arg",
    "model_args",
    multiple=True,
    metavar="KEY=VALUE",
    help="backend option, repeatable (llama: threads, n_ctx; openai: concurrency, timeout…)",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="only the first N items")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="response cache file (default: $PALMARES_CACHE or ~/.cache/palmares/responses.sqlite3)",
)
@click.option("--no-cache", is_flag=True, help="ask the model everything again, keep nothing")
@click.option("--split", default=None, help="dataset split (default: test, or the only one)")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="folder of local dataset copies, laid out like shared/data, read instead of a task's "
    "public source (default: $PALMARES_DATA_DIR)",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="folder for results.json and items.jsonl (default: runs/TASK/TIME); with several "
    "tasks, each task's results go to OUTPUT/TASK",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(100, 100_000),
    default=None,
    help="bootstrap resamples for corpus metrics (default: the task's, 1000)",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="seed of the bootstrap, and of few-shot drawing and sampling (default: the task's)",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 1, min_open=True, max_open=True),
    default=None,
    help="confidence level of the intervals (default 0.95)",
)
@verbose_option
@reports_input_errors
def eval_command(
    task_names: tuple[str, ...],
    predictions_files: tuple[str, ...],
    model: str | None,
    model_args: tuple[str, ...],
    limit: int | None,
    cache_path: str | None,
    no_cache: bool,
    split: str | None,
    data_dir: str | None,
    output: str | None,
    bootstrap: int | None,
    seed: int | None,
    confidence: float | None,
) -> None:
    """Score a system on TASK: every metric with its confidence interval, per slice too.

    TASK is a task file or a pack task id; several tasks (--task a --task b, or --task a,b)
    are scored one after the other, with one summary table at the end. The system is a
    predictions file per task (--predictions) or a model run here (--model); model answers go
    to a response cache, so an interrupted run resumes where it stopped.
    """
    names = [n.strip() for value in task_names for n in value.split(",") if n.strip()]
    if not names:
        raise InputError("give a task (a task file or a pack task id)", field="task")
    if bool(predictions_files) == (model is not None):
        raise InputError("give exactly one of --predictions or --model", field="eval")
    if predictions_files and len(predictions_files) != len(names):
        raise InputError(
            f"{len(names)} tasks and {len(predictions_files)} predictions files: give one "
            "--predictions per task, in the order of the tasks",
            field="predictions",
        )
    tasks = [open_task(name, data_dir) for name in names]  # every name checked before any run
    ids = [task.spec.id for task in tasks]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InputError(f"task {twice[0]!r} is given twice", field="task")
    overrides = {
        k: v
        for k, v in {"bootstrap": bootstrap, "seed": seed, "confidence": confidence}.items()
        if v is not None
    }
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S")
    done: list[tuple[Task, RunResult]] = []
    for k, task in enumerate(tasks):
        stats = task.spec.statistics.model_copy(update=overrides)
        StatisticsSpec.model_validate(stats.model_dump())
        if predictions_files:
            scorer = Scorer(task, split, stats)
            result = scorer.score_file(predictions_files[k])
            source = f"predictions {result.predictions_hash[:12]}"
        else:
            assert model is not None
            result = run_model(
                task,
                model,
                model_args,
                split,
                limit,
                stats,
                None if no_cache else cache_path,
                no_cache,
                seed,
            )
            source = _model_line(result)
        if output and len(tasks) == 1:
            out = Path(output)
        elif output:
            out = Path(output) / task.spec.id
        else:
            out = Path("runs") / task.spec.id / stamp
        result.write(out)
        _report(task, result, source, out)
        done.append((task, result))
    if len(done) > 1:
        console().print(f"\n[bold]{len(done)} tasks[/] · primary metric of each")
        console().print(summary_table(done))


def summary_table(done: list[tuple[Task, RunResult]]) -> Table:
    """One row per task: its primary metric with its interval and n."""
    pct = {round(r.statistics.get("confidence", 0.95) * 100) for _, r in done}
    table = Table(title=None, show_edge=False, pad_edge=False)
    table.add_column("task")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column(f"{pct.pop()}% CI" if len(pct) == 1 else "CI", justify="right")
    table.add_column("n", justify="right")
    for task, result in done:
        primary = task.spec.primary_metric
        score = result.table.scores.get(primary)
        if score is None:  # no primary metric scored: the first one
            primary, score = next(iter(result.table.scores.items()))
        table.add_row(
            escape(task.spec.id), escape(primary), fmt(score.value), fmt_ci(score), f"{score.n:,}"
        )
    return table


def _model_line(result: RunResult) -> str:
    model = result.extra["model"]
    ident = model.get("sha256", model.get("base_url", ""))[:12]
    run = result.extra["run"]
    skipped = len(result.extra.get("skipped", []))
    return (
        f"{result.extra['protocol']['type']} · model {model.get('model')} ({ident}) · "
        f"{run['computed']:,} computed, {run['cached']:,} from cache"
        + (f" · {skipped:,} skipped (listed in results.json)" if skipped else "")
    )


def _report(task: Task, result: RunResult, source: str, out: Path) -> None:
    spec = task.spec
    console().print(
        f"[bold]{spec.id}[/] v{spec.version} · {len(result.ids):,} items · split "
        f"{result.split} · {source}"
    )
    console().print(results_table(result, spec.primary_metric))
    console().print(f"results → {out / 'results.json'} (+ items.jsonl)")
