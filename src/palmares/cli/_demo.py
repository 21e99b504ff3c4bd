"""``palmares demo``: build the demo challenge, evaluate its systems live, serve the web UI."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from palmares.cli._main import cli, reports_input_errors
from palmares.cli._render import console


@cli.command("demo")
@click.option("--folder", default="runs/demo", type=click.Path(file_okay=False), show_default=True)
@click.option("--serve/--no-serve", default=True, help="serve the web UI at the end")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--data-dir",
    envvar="PALMARES_DATA_DIR",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="a local copy of the public data (adds CrowS-Pairs-fr and BBQ samples); "
    "$PALMARES_DATA_DIR",
)
@reports_input_errors
def demo(folder: str, serve: bool, host: str, port: int, data_dir: str | None) -> None:
    """Build « Grand défi IA générative en français (démo) »: two campaigns, real systems
    evaluated live (Gemma 3 270M GGUF) and baselines, then serve the web UI."""
    from palmares.demo import CHALLENGE_TITLE, PASSWORD, build_demo
    from palmares.testing import gemma_gguf

    out = console()
    started = time.perf_counter()
    out.print(f"[bold]{CHALLENGE_TITLE}[/bold] — building in {folder}")
    model = gemma_gguf()
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out) as bars:

        def progress(label: str) -> Callable[[int, int], None]:
            job = bars.add_task(label, total=None)
            return lambda done, total: bars.update(job, completed=done, total=total)

        built = build_demo(
            Path(folder),
            model=model,
            progress=progress,
            say=out.print,
            data_dir=None if data_dir is None else Path(data_dir),
        )
    out.print(f"Built in {time.perf_counter() - started:.0f} s.")
    if not serve:
        return
    import uvicorn

    from palmares.campaigns import run_forever
    from palmares.web import Settings, create_app

    app = create_app(Settings(db=built.db, artifacts=str(built.artifacts)))
    threading.Thread(
        target=run_forever, args=(app.state.db, app.state.artifacts), daemon=True
    ).start()
    out.print(f"\nServing the demo at [bold]http://{host}:{port}/[/bold] (Ctrl-C to stop)")
    out.print(f"Logins (password « {PASSWORD} » for all):")
    for user, role in built.logins.items():
        out.print(f"  {user:<12} {role}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
