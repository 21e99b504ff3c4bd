"""``palmares campaign create``, ``palmares users add``, ``palmares submit`` (on a database)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import (
    ROLES,
    Artifacts,
    Forbidden,
    QuotaExceeded,
    add_user,
    check_password,
    create_campaign,
    freeze_ended,
    publish,
    register,
    run_forever,
    run_one,
    set_password,
    submit_predictions,
    verify,
)
from palmares.cli._main import cli, reports_input_errors
from palmares.core import InputError
from palmares.store import User, migrate, open_engine, sessions

DB_HELP = "database URL (default: $PALMARES_DB, else sqlite:///palmares.db)"


def _db(url: str | None) -> sessionmaker[Session]:
    engine = open_engine(url or os.environ.get("PALMARES_DB", "sqlite:///palmares.db"))
    migrate(engine)  # a new database gets the schema; an old one the newest migrations
    return sessions(engine)


@cli.group()
def campaign() -> None:
    """Create and manage campaigns."""


@campaign.command("create")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def create(file: str, db_url: str | None) -> None:
    """Create the campaign described by FILE (and its challenge, if new)."""
    campaign_id = create_campaign(_db(db_url), file)
    click.echo(f"✓ campaign created (id {campaign_id})")


@cli.group()
def users() -> None:
    """Manage users and their API tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--team", default=None, help="team name (created if new); participants need one")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="read a password for the web pages from stdin (else the user has an API token only)",
)
@reports_input_errors
def add(name: str, role: str, team: str | None, db_url: str | None, password_stdin: bool) -> None:
    """Add user NAME and print their API token (shown this once, stored hashed)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    db = _db(db_url)
    if password is not None:
        check_password(password)  # before the user exists: nothing half-made
    token = add_user(db, name, role, team)
    if password is not None:
        set_password(db, name, password)
    click.echo(token)


@users.command("token")
@click.argument("name")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def token_command(name: str, db_url: str | None) -> None:
    """Issue a new API token for user NAME and print it (shown this once; the others stay)."""
    from palmares.campaigns.tokens import issue_token

    db = _db(db_url)
    with db() as session:
        user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise InputError(f"no user {name!r}", field="name")
    click.echo(issue_token(db, user))


@users.command("revoke")
@click.argument("name")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def revoke_command(name: str, db_url: str | None) -> None:
    """Revoke every API token and browser session of user NAME (a leak, a departure)."""
    from palmares.campaigns.tokens import revoke_all

    count = revoke_all(_db(db_url), name)
    click.echo(f"revoked {count} token(s) and session(s) of {name}")


@cli.command("submit")
@click.option("--campaign", "campaign_id", type=int, required=True, help="campaign id")
@click.option("--task", "task_id", required=True, help="task id within the campaign")
@click.option("--file", "file", required=True, type=click.Path(dir_okay=False))
@click.option("--token", envvar="PALMARES_TOKEN", required=True, help="API token ($PALMARES_TOKEN)")
@click.option("--server", default=None, help="server URL (else: the database, locally)")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@click.option("--artifacts", default="artifacts", type=click.Path(file_okay=False))
@reports_input_errors
def submit(
    campaign_id: int,
    task_id: str,
    file: str,
    token: str,
    server: str | None,
    db_url: str | None,
    artifacts: str,
) -> None:
    """Submit a predictions file: checked first (an invalid file counts nothing), then queued."""
    if server is not None:
        _submit_remote(server, token, campaign_id, task_id, file)
        return
    try:
        sid = submit_predictions(
            _db(db_url), Artifacts(artifacts), token, campaign_id, task_id, file
        )
    except (QuotaExceeded, Forbidden) as exc:
        click.echo(f"✗ {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"✓ submission {sid} accepted — queued for scoring")


@cli.command("worker")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@click.option("--artifacts", default="artifacts", type=click.Path(file_okay=False))
@click.option("--lease", type=float, default=30.0, help="seconds a claimed job stays this worker's")
@click.option("--once", is_flag=True, help="process at most one job, then exit")
@reports_input_errors
def worker(db_url: str | None, artifacts: str, lease: float, once: bool) -> None:
    """Score queued submissions (claims jobs with a lease; a dead worker's jobs are retried)."""
    db = _db(db_url)
    if once:
        if run_one(db, Artifacts(artifacts), lease_s=lease) is None:
            freeze_ended(db)  # idle: publish the snapshots of phases that have ended
    else:
        run_forever(db, Artifacts(artifacts), lease_s=lease)


@cli.command("serve")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@click.option("--artifacts", default="artifacts", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=8000)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=1,
    help="worker processes beside the web server, each restarted if it dies (0: web only)",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    help="web server processes sharing the port (more cores, more requests per second)",
)
@click.option(
    "--trusted-proxies",
    default=None,
    metavar="ADDRESSES",
    help="reverse proxies (comma-separated addresses or networks) whose X-Forwarded-For names "
    "the client the rate limits count; default: $PALMARES_TRUSTED_PROXIES, else none",
)
@reports_input_errors
def serve(
    db_url: str | None,
    artifacts: str,
    host: str,
    port: int,
    workers: int,
    processes: int,
    trusted_proxies: str | None,
) -> None:
    """Run the HTTP API (and, by default, one worker in a process of its own)."""
    import uvicorn

    from palmares.campaigns.worker import WorkerProcesses
    from palmares.web import Settings, create_app

    url = db_url or os.environ.get("PALMARES_DB", "sqlite:///palmares.db")
    # an idle keep-alive connection stays open 75 s (uvicorn's default: 5 s), longer than
    # clients and proxies keep theirs (httpx 5 s, nginx upstream 60 s): else a request sent as
    # the server closes it fails (browsers retry a GET, not a POST; seen in bench/load.py)
    # proxy_headers off: uvicorn would take X-Forwarded-For from 127.0.0.1 on its own; the app
    # reads it from the trusted proxies only (palmares.web.deps.client_address)
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info",
                               "timeout_keep_alive": 75, "proxy_headers": False}  # fmt: skip
    if trusted_proxies is not None:  # read by Settings, in this process and in each child
        os.environ["PALMARES_TRUSTED_PROXIES"] = trusted_proxies
    if processes == 1:
        app = create_app(Settings(db=url, artifacts=artifacts))
    else:  # each process builds the app from these settings; this one migrates once, first
        os.environ.update(PALMARES_DB=url, PALMARES_ARTIFACTS=artifacts)
        _db(url)
    # workers in processes of their own (migrated above): a crash while scoring (native code
    # reading a submitted file, a model) ends that process, which is restarted, never the server
    pool = WorkerProcesses(workers, url, artifacts)
    pool.start()
    try:
        if processes == 1:
            uvicorn.run(app, **options)
        else:
            uvicorn.run("palmares.web:app_from_environment", factory=True, workers=processes,
                        **options)  # fmt: skip
    finally:
        pool.stop()


def _submit_remote(server: str, token: str, campaign_id: int, task_id: str, file: str) -> None:
    import httpx

    url = f"{server.rstrip('/')}/api/campaigns/{campaign_id}/tasks/{task_id}/submissions"
    with open(file, "rb") as fh:
        response = httpx.post(
            url,
            files={"file": (os.path.basename(file), fh)},
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        )
    body = response.json()
    if response.status_code == 201:
        click.echo(f"✓ submission {body['id']} accepted — queued for scoring")
        return
    click.echo(f"✗ {body.get('message', response.text)}", err=True)
    raise SystemExit(2 if response.status_code in (400, 422) else 1)


@campaign.command("publish")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--task", "task_id", required=True)
@click.option("--phase", "phase_kind", required=True, type=click.Choice(["dev", "test", "final"]))
@click.option("--reason", default="rescore", help="why (kept with the snapshot)")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def publish_command(
    campaign_id: int, task_id: str, phase_kind: str, reason: str, db_url: str | None
) -> None:
    """Freeze the leaderboard of an ended phase again (after a rescore); the old one stays."""
    try:
        sid = publish(_db(db_url), campaign_id, phase_kind, task_id, reason, actor="cli")
    except Forbidden as exc:
        click.echo(f"✗ {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"✓ snapshot {sid} published")


@cli.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@click.option("--db", "db_url", default=None, help=DB_HELP)
def audit_verify(db_url: str | None) -> None:
    """Recompute the chain; exit 1 if any event was changed, removed or inserted."""
    verdict = verify(_db(db_url))
    click.echo(str(verdict))
    if not verdict.ok:
        raise SystemExit(1)


@cli.command("register")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--accept-rules", is_flag=True, help="required: you accept the campaign's rules")
@click.option("--token", envvar="PALMARES_TOKEN", required=True, help="API token ($PALMARES_TOKEN)")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def register_command(campaign_id: int, accept_rules: bool, token: str, db_url: str | None) -> None:
    """Register your team to a campaign, accepting its rules."""
    try:
        register(_db(db_url), token, campaign_id, accept_rules)
    except Forbidden as exc:
        click.echo(f"✗ {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"✓ registered to campaign {campaign_id}")
