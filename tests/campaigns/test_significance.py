"""Leaderboard statistics (issue #6): each row's rank interval and significance group, from the
evidence the worker keeps per submission (bootstrap replicates on one resampling shared by every
submission), checked against ``palmares.stats`` computed directly on the items; shown by the API
and the page, frozen in snapshots; and never a per-item number in any response (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.campaigns.conftest import (  # noqa: F401 - db_url is a fixture
    binary_campaign,
    db_url,
    join,
    pin_partition_seed,
)

from palmares.campaigns import add_user, create_campaign, publish, run_one, submit_predictions
from palmares.campaigns.leaderboard import leaderboard
from palmares.campaigns.scoring import (
    public_positions,
    read_item_scores,
    read_replicates,
    resampling_counts,
)
from palmares.campaigns.significance import letter_display, pairwise_p_values
from palmares.stats import (
    all_pairs,
    compact_letters,
    paired_bootstrap,
    rank_intervals,
    replicate_values,
)
from palmares.store.models import ScoreEvidence
from palmares.tasks import load_task
from palmares.web import Settings, create_app

N_ITEMS = 1200
TASK = "binaire"
#: designed accuracies: two leaders too close to separate, one clear middle, two close last
TEAMS = {"lab-a": 0.92, "lab-b": 0.91, "lab-c": 0.78, "lab-d": 0.62, "lab-e": 0.61}


def _setup(folder: Path, url: str | None = None) -> tuple[TestClient, np.ndarray]:
    """A campaign on a generated binary task; each team of ``TEAMS`` submitted once (answers
    right with its accuracy, independently per item) and scored; the client and the truth."""
    rng = np.random.default_rng(2026)
    truth = rng.integers(0, 2, N_ITEMS)
    binary_campaign(folder, TASK, truth, id_prefix="i")
    settings = Settings(
        db=url or f"sqlite:///{folder / 'p.db'}", artifacts=str(folder / "artifacts")
    )
    app = create_app(settings)
    db, artifacts = app.state.db, app.state.artifacts
    pin_partition_seed(db, create_campaign(db, folder / "campaign.yaml"), TASK)
    for team, accuracy in TEAMS.items():
        right = rng.random(N_ITEMS) < accuracy
        labels = np.where(right, truth, 1 - truth)
        path = folder / f"{team}.jsonl"
        path.write_text(
            "".join(
                f'{{"id": "i{i:04d}", "prediction": "{"oui" if x else "non"}"}}\n'
                for i, x in enumerate(labels)
            ),
            "utf-8",
        )
        token = join(db, f"u-{team}", team)
        submit_predictions(db, artifacts, token, 1, TASK, path)
    while run_one(db, artifacts) is not None:
        pass
    return TestClient(app), truth


def _item_scores(folder: Path, truth: np.ndarray, team: str) -> np.ndarray:
    """A team's 0/1 item scores on the public part, recomputed from its file."""
    items = load_task(folder / "task.yaml").items("test")
    positions = public_positions(items, f"1:{TASK}")
    predictions = [
        json.loads(line)["prediction"] == "oui"
        for line in (folder / f"{team}.jsonl").read_text("utf-8").splitlines()
    ]
    return (np.array(predictions, dtype=int) == truth)[positions].astype(float)


def test_rank_intervals_and_groups_agree_with_palmares_stats(
    db_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    web, truth = _setup(tmp_path, db_url)
    board = web.get(f"/api/campaigns/1/tasks/{TASK}/leaderboard?phase=dev").json()
    rows = board["rows"]
    teams = [r["team"] for r in rows]  # the close pairs may come in either order
    assert set(teams[:2]) == {"lab-a", "lab-b"} and teams[2] == "lab-c"
    assert board["significance"]["correction"] == "holm" and board["significance"]["alpha"] == 0.05
    assert board["ladder"] is False
    assert [r["group"] for r in rows] == ["a", "a", "b", "c", "c"]
    assert [r["rank_interval"] for r in rows] == [[1, 2], [1, 2], [3, 3], [4, 5], [4, 5]]

    # the same, computed directly on the items by palmares.stats
    scores = [_item_scores(tmp_path, truth, team) for team in teams]
    assert [r["value"] for r in rows] == pytest.approx([s.mean() for s in scores])
    pairs = all_pairs(scores, correction="holm", rng=np.random.default_rng(1))
    assert compact_letters(pairs.estimates, pairs.significant) == [r["group"] for r in rows]
    # the rank interval is the ranks the tests leave possible (issue #14): 1 + those
    # significantly better, to k - those significantly worse
    better = pairs.significant & (pairs.estimates[None, :] > pairs.estimates[:, None])
    worse = pairs.significant & (pairs.estimates[None, :] < pairs.estimates[:, None])
    assert [
        [1 + int(b), len(rows) - int(w)] for b, w in zip(better.sum(1), worse.sum(1), strict=True)
    ] == [r["rank_interval"] for r in rows]
    # here also the bootstrap percentile interval of the ranks (palmares.stats)
    direct = rank_intervals(np.column_stack(scores), rng=np.random.default_rng(0))
    assert [[int(lo), int(hi)] for lo, hi in zip(direct.low, direct.high, strict=True)] == [
        r["rank_interval"] for r in rows
    ]
    assert [r["verdict"] for r in rows] == ["best", "indistinguishable", "below", "below", "below"]
    assert [r["below"] for r in rows] == [None, None, 2, 3, 3]

    # the stored evidence: exact item scores, replicates on one resampling shared by all
    db = web.app.state.db  # type: ignore[attr-defined]
    with db() as s:
        evidence = {
            e.submission_id: e
            for e in s.scalars(select(ScoreEvidence).where(ScoreEvidence.part == "public"))
        }
    stored = [evidence[r["submission"]] for r in rows]
    for row, found, items in zip(rows, stored, scores, strict=True):
        assert np.array_equal(read_item_scores(found.items), items)
        assert found.value == pytest.approx(row["value"]) and found.n == row["n"]
    replicates = np.column_stack([read_replicates(e.replicates) for e in stored])
    p = pairwise_p_values(np.array([e.value for e in stored]), replicates)
    close = paired_bootstrap(scores[0], scores[1], rng=np.random.default_rng(2)).p_value
    assert p[0, 1] > 0.2 and close > 0.2  # the two leaders: no evidence either way
    apart = paired_bootstrap(scores[1], scores[2], rng=np.random.default_rng(3)).p_value
    assert p[1, 2] < 1e-6 and apart < 1e-3
    # one resampling shared by all: every column is the same counts of items times its scores
    [(_start, counts)] = resampling_counts(
        (0, zlib.crc32(f"1:{TASK}:public".encode())), len(scores[0]), 1000
    )
    assert np.allclose(replicates, counts @ np.column_stack(scores) / len(scores[0]), atol=1e-12)
    private = leaderboard(db, 1, TASK, "dev", "private")
    assert all(r["group"] and r["rank_interval"] for r in private)


def test_page_shows_rank_intervals_groups_and_their_legend(tmp_path: Path) -> None:
    web, _truth = _setup(tmp_path)
    base = f"/campaigns/1/tasks/{TASK}/leaderboard?phase=dev"
    page = web.get(base).text
    assert '<th scope="col">intervalle de rang</th><th scope="col">groupe</th>' in page
    assert (
        '<td class="rank-interval">1–2</td>' in page and '<td class="rank-interval">3</td>' in page
    )
    assert '<td class="group">a</td>' in page and '<td class="group">c</td>' in page
    assert "les systèmes qui partagent une lettre ne sont pas significativement différents" in page
    english = web.get(base + "&lang=en").text
    assert (
        "rank interval" in english and "systems sharing a letter are not significantly" in english
    )
    assert '<tspan class="group">b</tspan>' in page  # the forest plot names each row's group


def test_snapshots_carry_rank_intervals_and_groups(tmp_path: Path) -> None:
    web, _truth = _setup(tmp_path)
    db = web.app.state.db  # type: ignore[attr-defined]
    later = datetime.now(UTC) + timedelta(days=3)  # the dev phase has ended by then
    publish(db, 1, "dev", TASK, "phase ended", now=later)
    snapshot = web.get(f"/api/campaigns/1/tasks/{TASK}/snapshots").json()["snapshots"][0]
    for part in ("public", "private"):
        assert all(r["group"] and r["rank_interval"] for r in snapshot[part])
    assert [r["group"] for r in snapshot["public"]] == ["a", "a", "b", "c", "c"]


def test_no_per_item_number_reaches_a_participant(tmp_path: Path) -> None:
    """The stored replicates and item scores of every submission, as any serialisation would
    print a run of them, appear in no API response and no page a participant or a visitor can
    read (staff pages neither)."""
    web, _truth = _setup(tmp_path)
    db = web.app.state.db  # type: ignore[attr-defined]
    with db() as s:
        evidence = s.scalars(select(ScoreEvidence)).all()
        submissions = [e.submission_id for e in evidence]
    needles = set()
    for e in evidence:
        replicates = read_replicates(e.replicates)
        items = read_item_scores(e.items)
        assert items is not None
        for values in (replicates[:4], replicates[500:504], items[:12], items[-12:]):
            listed = json.dumps(values.tolist())
            needles |= {listed, listed[1:-1], " ".join(f"{v:.3f}" for v in values)}
        needles.add(e.items_digest)
    token = join(db, "curious", "lab-z")
    add_user(db, "olga", "organiser")
    api = [
        "/api/campaigns",
        "/api/campaigns/1",
        f"/api/campaigns/1/tasks/{TASK}/leaderboard?phase=dev",
        f"/api/campaigns/1/tasks/{TASK}/snapshots",
        "/api/submissions",
        *(f"/api/submissions/{sid}" for sid in submissions),
        *(f"/api/submissions/{sid}/items" for sid in submissions),
        "/openapi.json",
    ]
    pages = [
        "/",
        "/challenges/stat",
        "/campaigns/1",
        f"/campaigns/1/tasks/{TASK}",
        f"/campaigns/1/tasks/{TASK}/leaderboard?phase=dev",
        f"/campaigns/1/tasks/{TASK}/leaderboard?phase=dev&lang=en",
    ]
    seen = 0
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        for url in api + pages:
            text = web.get(url, headers=headers).text
            seen += len(text)
            for needle in needles:
                assert needle not in text, (url, needle)
    assert seen > 10_000


def test_letter_display_is_exact_and_like_compact_letters() -> None:
    """Sharing a letter ⇔ not significant, on random patterns; on patterns that follow the
    order of the values (what leaderboards show), as many letters as Piepho's algorithm."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        k = int(rng.integers(1, 13))
        values = rng.random(k)
        significant = np.triu(rng.random((k, k)) < rng.random(), 1)
        significant = significant | significant.T
        letters = letter_display(values, significant)
        assert letters is not None
        for i in range(k):
            for j in range(k):
                if i != j:
                    assert bool(set(letters[i]) & set(letters[j])) == (not significant[i, j])
        assert letters[int(np.argmax(values))].startswith("a")  # named by rank
    for _ in range(100):
        k = int(rng.integers(2, 10))
        values = np.sort(rng.random(k))[::-1]
        significant = np.abs(values[:, None] - values[None, :]) > rng.random() * 0.5
        ours, piepho = letter_display(values, significant), compact_letters(values, significant)
        assert ours is not None and ours[0].startswith("a")
        assert len(set("".join(ours))) == len(set("".join(piepho)))
    assert letter_display([0.9, 0.5], np.array([[False, True], [True, False]])) == ["a", "b"]
    assert letter_display([0.1, 0.5], np.array([[False, True], [True, False]]), False) == [
        "a",
        "b",
    ]
    assert letter_display(np.arange(60.0), ~np.eye(60, dtype=bool)) is None  # 60 letters


def test_paired_z_test_p_values() -> None:
    """Identical systems: p = 1; a constant difference: p = 0; otherwise close to the paired
    bootstrap's; and at α = 5 % it rejects ~5 % of the time when two systems are equally good."""
    rng = np.random.default_rng(7)
    x = (rng.random(400) < 0.7).astype(float)
    y = (rng.random(400) < 0.6).astype(float)
    full, reps = replicate_values([x, x, y, x + 0.1], replicates=2000, rng=rng)
    p = pairwise_p_values(full, reps)
    assert p[0, 1] == 1.0 and p[0, 3] == 0.0 and np.all(np.diag(p) == 1.0)
    assert p[0, 2] == pytest.approx(
        paired_bootstrap(x, y, replicates=20_000, rng=rng).p_value, abs=0.01
    )
    rejected, trials = 0, 400
    for _ in range(trials):
        chance = rng.beta(2, 1, 300)  # item difficulty shared by both systems
        a = (rng.random(300) < chance).astype(float)
        b = (rng.random(300) < chance).astype(float)
        full, reps = replicate_values([a, b], replicates=500, rng=rng)
        rejected += pairwise_p_values(full, reps)[0, 1] < 0.05
    rate = rejected / trials
    assert abs(rate - 0.05) < 3 * np.sqrt(0.05 * 0.95 / trials), rate
