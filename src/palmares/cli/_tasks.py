"""``palmares tasks list|validate|show`` and ``palmares metrics``."""

from __future__ import annotations

import json
import re

import click
from rich.markup import escape
from rich.table import Table

from palmares.cli._main import cli, reports_input_errors
from palmares.cli._render import console
from palmares.metrics import metric_registry
from palmares.packs import fr
from palmares.tasks import Task, load_task
from palmares.tasks.packs import resolve_task

#: ``--data-dir``, shared by the commands that read datasets
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="folder of local dataset copies, laid out like shared/data (default: $PALMARES_DATA_DIR)",
)


def open_task(name: str, data_dir: str | None) -> Task:
    """A task file, or the id of a pack task (``palmares tasks list``): every command that
    takes a task opens it here (:func:`palmares.tasks.packs.resolve_task`)."""
    return load_task(resolve_task(name), data_dir)


@cli.group()
def tasks() -> None:
    """List, check and describe tasks."""


@tasks.command("list")
@data_dir_option
@reports_input_errors
def list_tasks(data_dir: str | None) -> None:
    """List the tasks of the French pack: sizes where the data is here (no download)."""
    rows = [("id", "protocol", "items by split", "data", "licence")]
    titles = [""]
    for task_id in fr.ALL_TASKS:
        task = load_task(fr.find_task(task_id), data_dir)
        if all(task.data_here(s) for s in task.splits):
            size = " + ".join(f"{len(task.items(s)):,}" for s in task.splits)
            where = "data folder" if task.source(task.splits[0]).local_copy else "here"
        else:
            size, where = "?", "download"
        spec = task.spec
        rows.append((spec.id, spec.protocol.type, size, where, spec.license))
        titles.append(spec.title)
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    for row, title in zip(rows, titles, strict=True):
        cells = [
            c.rjust(w) if k == 2 else c.ljust(w)
            for k, (c, w) in enumerate(zip(row[:4], widths, strict=True))
        ]
        click.echo("  ".join([*cells, row[4]]).rstrip())
        if title:
            click.echo(f"    {title}")
    if any(r[3] == "download" for r in rows):
        click.echo(
            "download: read from its public source on first use (network); to read local "
            "copies instead, set PALMARES_DATA_DIR or pass --data-dir (a folder laid out like "
            "shared/data)"
        )
    click.echo("palmares tasks show ID: a task's datasheet, sources, fields, slices and examples")


_HEADINGS = re.compile(r"(Datasheet|[A-Z][a-z]+( [a-z]+){0,3})( \(.*)?:")


def _paragraphs(text: str) -> list[str]:
    """A datasheet's paragraphs, its hard-wrapped lines joined: a paragraph starts at a line
    opening with a heading (« Source: », « Scoring (…): »)."""
    out: list[str] = []
    for line in text.strip().splitlines():
        if not out or _HEADINGS.match(line):
            out.append(line.strip())
        else:
            out[-1] += " " + line.strip()
    return out


@tasks.command("validate")
@click.argument("files", nargs=-1, required=True)
@data_dir_option
@reports_input_errors
def validate(files: tuple[str, ...], data_dir: str | None) -> None:
    """Check FILES (task files or pack task ids): spec, fields and every item of every split."""
    for path in files:
        task = open_task(path, data_dir)
        sizes = ", ".join(f"{s}: {len(task.items(s)):,}" for s in task.splits)
        click.echo(f"✓ {path}: {task.spec.id} v{task.spec.version} ({sizes}) hash {task.hash[:16]}")


@tasks.command("show")
@click.argument("task_name", metavar="TASK")
@click.option("--split", default=None)
@click.option("--examples", default=3, show_default=True, help="items to show")
@data_dir_option
@reports_input_errors
def show(task_name: str, split: str | None, examples: int, data_dir: str | None) -> None:
    """Describe TASK (a task file or a pack task id): its datasheet, where its data comes from,
    items, fields, slices, metrics, hashes and a few examples."""
    task = open_task(task_name, data_dir)
    spec = task.spec
    split = task.resolve_split(split)
    items = task.items(split)
    ds = spec.dataset
    out = console()
    out.print(f"[bold]{spec.id}[/] v{spec.version} — {escape(spec.title)}")
    out.print(f"language {spec.language} · licence {spec.license} · protocol {spec.protocol.type}")
    for paragraph in _paragraphs(spec.description):
        out.print(escape(paragraph))
    for s in task.splits:
        src = task.source(s)
        kind = "local copy" if src.local_copy else "source"
        # soft_wrap: a path is never broken across lines, so it can be copied whole
        out.print(f"data {s}: {escape(src.location)} ({src.format}, {kind})", soft_wrap=True)
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
    for m in task.metrics():
        out.print(f"  {m.label}: {escape(m.description)}")
    for fld, values in items.slices.items():
        counts: dict[str, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        out.print(f"slice {fld}: " + ", ".join(f"{k} ({c})" for k, c in sorted(counts.items())))
    out.print(f"dataset hash {task.dataset_hash(split)}")
    out.print(f"task hash    {task.hash}")
    for i in range(min(examples, len(items))):
        out.print(escape(json.dumps(items.record(i), ensure_ascii=False)[:300]))


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
