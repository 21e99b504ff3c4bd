"""Campaigns as code, people, and submissions under quotas — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import EXAMPLE, campaign_file, join

from palmares.campaigns import (
    Artifacts,
    Forbidden,
    QuotaExceeded,
    add_user,
    create_campaign,
    submit_predictions,
)
from palmares.core import InputError
from palmares.store import Base, Phase, QuotaUsage, Submission, Token

IN_DEV = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def test_migrations_match_the_models(db: sessionmaker[Session]) -> None:
    with db() as session:
        context = MigrationContext.configure(session.connection())
        assert compare_metadata(context, Base.metadata) == []


def test_campaign_yaml_creates_phases_and_pins_the_task(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    campaign_id = create_campaign(db, campaign_file(tmp_path))
    with db() as session:
        phases = session.scalars(select(Phase).where(Phase.campaign_id == campaign_id)).all()
        dev = next(p for p in phases if p.kind == "dev")
        assert (dev.quota_per_day, dev.quota_total, dev.accepts) == (50, 5, ["predictions"])
        # an end date is inclusive: the phase closes at the start of the next day
        assert dev.ends_at.replace(tzinfo=UTC) == datetime(2027, 4, 16, tzinfo=UTC)
    with pytest.raises(InputError, match="already exists"):
        create_campaign(db, campaign_file(tmp_path))


def test_bad_campaign_file_names_line_and_field(db: sessionmaker[Session], tmp_path: Path) -> None:
    path = campaign_file(tmp_path)
    path.write_text(path.read_text("utf-8").replace("kind: test", "kind: tset"), "utf-8")
    with pytest.raises(InputError) as err:
        create_campaign(db, path)
    assert "campaign.yaml:9: phases.1.kind: " in str(err.value)


def test_tokens_are_stored_hashed(db: sessionmaker[Session]) -> None:
    token = add_user(db, "alice", "participant", team="lab-a")
    with db() as session:
        digests = session.scalars(select(Token.digest)).all()
    assert token.startswith("plm_") and token not in digests and len(digests) == 1
    with pytest.raises(InputError, match="belongs to a team"):
        add_user(db, "bob", "participant")


def test_invalid_file_uses_no_quota(db: sessionmaker[Session], tmp_path: Path) -> None:
    campaign_id = create_campaign(db, campaign_file(tmp_path))
    token = join(db, "alice", "lab-a", campaign_id)
    artifacts = Artifacts(tmp_path / "artifacts")
    bad = tmp_path / "bad.jsonl"
    lines = (EXAMPLE / "baseline.jsonl").read_text("utf-8").splitlines()
    bad.write_text("\n".join([*lines, lines[0]]) + "\n", "utf-8")  # a duplicate id
    with pytest.raises(InputError, match="duplicate id"):
        submit_predictions(db, artifacts, token, campaign_id, "avis-fr", bad, IN_DEV)
    sid = submit_predictions(
        db, artifacts, token, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl", IN_DEV
    )
    with db() as session:
        assert (
            session.scalar(select(func.sum(QuotaUsage.used)).where(QuotaUsage.period == "total"))
            == 1
        )
        assert session.get(Submission, sid) is not None
    with pytest.raises(Forbidden, match="no phase"):
        submit_predictions(
            db, artifacts, token, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl",
            datetime(2027, 5, 1, tzinfo=UTC),
        )  # fmt: skip
    with pytest.raises(Forbidden, match="valid API token"):
        submit_predictions(
            db, artifacts, "plm_wrong", campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl", IN_DEV
        )


def test_fifty_concurrent_submissions_against_a_quota_of_five(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    campaign_id = create_campaign(db, campaign_file(tmp_path, quota=5))
    token = join(db, "alice", "lab-a", campaign_id)
    other = join(db, "carol", "lab-b", campaign_id)
    artifacts = Artifacts(tmp_path / "artifacts")
    start = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        start.wait()
        try:
            submit_predictions(
                db, artifacts, token, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl", IN_DEV
            )
            result = "accepted"
        except QuotaExceeded:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("accepted") == 5 and outcomes.count("refused") == 45
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 5
        used = session.scalars(select(QuotaUsage.used).where(QuotaUsage.period == "total")).all()
        assert used == [5]
    # another team's quota is its own
    submit_predictions(
        db, artifacts, other, campaign_id, "avis-fr", EXAMPLE / "baseline.jsonl", IN_DEV
    )


def test_cli_campaign_users_and_submit(tmp_path: Path) -> None:
    """The commands on a fresh SQLite file (the phase is open now: dates around today)."""
    from click.testing import CliRunner

    import palmares.cli._campaign  # noqa: F401
    from palmares.cli import cli

    db_url = f"sqlite:///{tmp_path / 'p.db'}"
    path = campaign_file(tmp_path)
    today = datetime.now(UTC).date()
    body = path.read_text("utf-8").replace("2027-03-01", str(today.replace(year=today.year - 1)))
    path.write_text(body.replace("end: 2027-04-15", f"end: {today.replace(year=today.year + 1)}"))
    path.write_text(
        path.read_text()
        .replace("start: 2027-04-16", f"start: {today.replace(year=today.year + 2)}")
        .replace("end: 2027-04-23", f"end: {today.replace(year=today.year + 3)}")
    )
    runner = CliRunner()
    res = runner.invoke(cli, ["campaign", "create", str(path), "--db", db_url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli, ["users", "add", "alice", "--role", "participant", "--team", "a", "--db", db_url]
    )
    assert res.exit_code == 0, res.output
    token = res.stdout.strip()
    res = runner.invoke(
        cli, ["register", "--campaign", "1", "--accept-rules", "--token", token, "--db", db_url]
    )
    assert res.exit_code == 0, res.output
    args = ["submit", "--campaign", "1", "--task", "avis-fr", "--token", token, "--db", db_url,
            "--artifacts", str(tmp_path / "artifacts")]  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "nope", "prediction": "positif"}\n', "utf-8")
    res = runner.invoke(cli, [*args, "--file", str(bad)])
    assert res.exit_code == 2 and "bad.jsonl" in res.stderr, res.output
    res = runner.invoke(cli, [*args, "--file", str(EXAMPLE / "baseline.jsonl")])
    assert res.exit_code == 0 and "accepted" in res.stdout, res.output
