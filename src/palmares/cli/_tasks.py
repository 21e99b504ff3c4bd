"""``palmares tasks validate|show`` and ``palmares metrics``."""

from __future__ import annotations

import json

import click
from rich.table import Table

from palmares.cli._main import cli, reports_input_errors
from palmares.cli._render import console
from palmares.metrics import metric_registry
from palmares.tasks import load_task


@cli.group()
def tasks() -> None:
    """Check and describe task files."""


@tasks.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@reports_input_errors
def validate(files: tuple[str, ...]) -> None:
    """Check FILES: spec, dataset fields and every item of every split."""
    for path in files:
        task = load_task(path)
        sizes = ", ".join(f"{s}: {len(task.items(s)):,}" for s in task.splits)
        click.echo(f"✓ {path}: {task.spec.id} v{task.spec.version} ({sizes}) hash {task.hash[:16]}")


@tasks.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--split", default=None)
@click.option("--examples", default=3, show_default=True, help="items to show")
@reports_input_errors
def show(file: str, split: str | None, examples: int) -> None:
    """Describe a task: items, fields, slices, hashes and a few examples."""
    task = load_task(file)
    spec = task.spec
    split = task.resolve_split(split)
    items = task.items(split)
    ds = spec.dataset
    out = console()
    out.print(f"[bold]{spec.id}[/] v{spec.version} — {spec.title}")
    out.print(f"language {spec.language} · licence {spec.license} · protocol {spec.protocol.type}")
    out.print("splits: " + ", ".join(f"{s} ({len(task.items(s)):,} items)" for s in task.splits))
    out.print(f"split {split}: {len(items):,} items · format {ds.format}")
    out.print(
        f"fields: id={ds.id_field or '(row number)'} inputs={ds.input_fields} "
        f"reference={ds.reference_field} group={ds.group_field}"
    )
    out.print(
        "metrics: "
        + ", ".join(
            f"{m.label} ({'corpus' if m.aggregation == 'corpus' else 'mean'}, "
            f"{'higher' if m.higher_is_better else 'lower'} is better)"
            for m in task.metrics()
        )
    )
    for fld, values in items.slices.items():
        counts: dict[str, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        out.print(f"slice {fld}: " + ", ".join(f"{k} ({c})" for k, c in sorted(counts.items())))
    out.print(f"dataset hash {task.dataset_hash(split)}")
    out.print(f"task hash    {task.hash}")
    for i in range(min(examples, len(items))):
        out.print(json.dumps(items.record(i), ensure_ascii=False)[:300])


@cli.command("metrics")
def metrics() -> None:
    """List the registered metrics."""
    table = Table(show_edge=False)
    for col in ("name", "compares", "aggregation", "better", "description"):
        table.add_column(col)
    for cls in metric_registry():
        table.add_row(
            cls.name,
            cls.kind.value,
            cls.aggregation,
            "higher" if cls.higher_is_better else "lower",
            cls.description,
        )
    console().print(table)
