"""``palmares invite`` (one-use sign-up codes of a challenge), ``palmares campaign approve`` and
``palmares campaign registrations`` (registrations an organiser approves)."""

from __future__ import annotations

import click

from palmares.campaigns import (
    SignupMode,
    create_invitations,
    decide_registration,
    registrations,
    set_signup_mode,
)
from palmares.cli._campaign import DB_HELP, _db, campaign
from palmares.cli._main import cli, reports_input_errors


@cli.command("invite")
@click.option("--challenge", "challenge_id", required=True, help="challenge id")
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--signup",
    type=click.Choice([m.value for m in SignupMode]),
    default=None,
    help="also set the challenge's sign-up mode (e.g. invitation)",
)
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def invite(challenge_id: str, count: int, signup: str | None, db_url: str | None) -> None:
    """Print COUNT one-use invitation codes of a challenge, one a line (shown this once: only
    their SHA-256 is stored). A code admits one sign-up (or one team's registration) while the
    challenge's sign-up mode is ``invitation``."""
    db = _db(db_url)
    if signup is not None:
        set_signup_mode(db, challenge_id, signup, actor="cli")
    for code in create_invitations(db, challenge_id, count, actor="cli"):
        click.echo(code)


@campaign.command("approve")
@click.option("--campaign", "campaign_id", type=int, required=True, help="campaign id")
@click.option("--team", required=True, help="the team's exact name")
@click.option("--refuse", is_flag=True, help="refuse the registration instead")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def approve(campaign_id: int, team: str, refuse: bool, db_url: str | None) -> None:
    """Approve (or, with --refuse, refuse) a team's registration to a campaign (audited)."""
    status = decide_registration(_db(db_url), campaign_id, team, not refuse, actor="cli")
    click.echo(f"✓ registration of {team} to campaign {campaign_id}: {status.value}")


@campaign.command("registrations")
@click.option("--campaign", "campaign_id", type=int, required=True, help="campaign id")
@click.option("--db", "db_url", default=None, help=DB_HELP)
@reports_input_errors
def list_registrations(campaign_id: int, db_url: str | None) -> None:
    """List a campaign's registrations, pending first: status, team, members, time (UTC)."""
    with _db(db_url)() as session:
        rows = registrations(session, campaign_id)
    for row in rows:
        when = row["accepted_at"].strftime("%Y-%m-%d %H:%M")
        members = ", ".join(row["members"])
        click.echo(f"{row['status'].value:9} {row['team']}\t{members}\t{when}")
