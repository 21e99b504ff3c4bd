"""``palmares eval``: score one system on one task — a predictions file, or a model run here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from palmares.cli._main import cli, reports_input_errors
from palmares.cli._render import console, results_table
from palmares.cli._run import run_model
from palmares.core import InputError, StatisticsSpec
from palmares.engine import RunResult, Scorer
from palmares.tasks import Task, load_task


@cli.command("eval")
@click.option(
    "--task", "task_path", required=True, type=click.Path(dir_okay=False), help="task YAML file"
)
@click.option(
    "--predictions",
    default=None,
    type=click.Path(dir_okay=False),
    help="predictions file (.jsonl, .csv or .tsv)",
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
    help="folder for results.json and items.jsonl (default: runs/TASK/TIME)",
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
@reports_input_errors
def eval_command(
    task_path: str,
    predictions: str | None,
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

    The system is a predictions file (--predictions) or a model run here (--model); model
    answers go to a response cache, so an interrupted run resumes where it stopped.
    """
    if (predictions is None) == (model is None):
        raise InputError("give exactly one of --predictions or --model", field="eval")
    task = load_task(task_path, data_dir)
    overrides = {
        k: v
        for k, v in {"bootstrap": bootstrap, "seed": seed, "confidence": confidence}.items()
        if v is not None
    }
    stats = task.spec.statistics.model_copy(update=overrides)
    StatisticsSpec.model_validate(stats.model_dump())
    if predictions is not None:
        scorer = Scorer(task, split, stats)
        result = scorer.score_file(predictions)
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
    out = (
        Path(output)
        if output
        else Path("runs") / task.spec.id / datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S")
    )
    result.write(out)
    _report(task, result, source, out)


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
