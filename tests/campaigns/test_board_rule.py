"""One rule per leaderboard (issue #14): equal scores share a rank (1, 2, 3=, 3=, 5), every row's
rank interval contains its rank, verdicts, rank intervals and groups come from the same
Holm-adjusted paired tests and never contradict (200 simulated boards, and a campaign board
like the demo's), a metric with a target ranks by distance to it, and a frozen board says
which snapshot it shows (the latest, when one was republished)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.campaigns.conftest import binary_campaign, join, pin_partition_seed

from palmares.campaigns import create_campaign, publish, run_one, snapshots, submit_predictions
from palmares.campaigns.leaderboard import ranked
from palmares.campaigns.significance import ALPHA, pairwise_p_values
from palmares.campaigns.verdicts import Direction, competition_ranks, direction, judge
from palmares.stats import adjust_pairs, replicate_values
from palmares.store import Phase
from palmares.web import Settings, create_app


def _labels(values: list[float | None], metric: str = "accuracy") -> list[str]:
    rows: list[dict[str, Any]] = [
        {"team": f"t{i}", "metric": metric, "value": v} for i, v in enumerate(values)
    ]
    return [r["rank_label"] for r in ranked(rows)]


def test_equal_scores_share_a_rank() -> None:
    assert _labels([0.9, 0.8, 0.7, 0.7, 0.6]) == ["1", "2", "3=", "3=", "5"]
    assert _labels([0.0, 0.0, 0.0]) == ["1=", "1=", "1="]  # three teams at 0.000
    assert _labels([0.5, 0.0, 0.0, 0.0]) == ["1", "2=", "2=", "2="]
    assert _labels([0.1 + 0.2, 0.3, 0.2]) == ["1=", "1=", "3"]  # float noise is no difference
    assert _labels([0.2, None, 0.4, None]) == ["1", "2", "3=", "3="]  # no value: last
    assert _labels([2.0, 1.0, 1.0], "mae") == ["1=", "1=", "3"]  # lower is better
    ranks, tied = competition_ranks([3.0, 1.0, 3.0, 2.0])
    assert ranks.tolist() == [1, 4, 1, 3] and tied.tolist() == [True, False, True, False]


def test_a_target_metric_ranks_by_distance() -> None:
    crows = direction("first_preferred")
    assert crows == Direction("target", 0.5) and crows.as_dict()["symbol"] == "→"
    rows = [{"team": t, "metric": "first_preferred", "value": v}
            for t, v in [("a", 0.55), ("b", 0.49), ("c", 0.60), ("d", 0.40)]]  # fmt: skip
    assert [(r["team"], r["rank_label"]) for r in ranked(rows)] == [
        ("b", "1"),  # 0.49 beats 0.55
        ("a", "2"),
        ("c", "3="),  # 0.60 and 0.40 are as far from 0.5
        ("d", "3="),
    ]
    assert direction("bbq_s_dis") == Direction("target", 0.0) == direction("bbq_s_amb")
    bias = [{"team": t, "metric": "bbq_s_dis", "value": v} for t, v in [("x", -0.3), ("y", 0.1)]]
    assert [r["team"] for r in ranked(bias)] == ["y", "x"]  # −0.3 is bias the other way
    assert direction("accuracy") == Direction("higher") and direction("mae") == Direction("lower")
    assert (
        direction("ndcg@10").better == "higher" and direction("unknown_metric").better == "higher"
    )


def _check_board(
    way: Direction, values: np.ndarray, reps: np.ndarray, shown: np.ndarray | None = None
) -> tuple[int, int]:
    """The rule on one board, checked row by row against the paired tests computed here: the
    number of rows checked and of violations."""
    shown = values if shown is None else shown
    g_shown, g_exact, g_reps = way.goodness(shown), way.goodness(values), way.goodness(reps)
    ranks, _tied = competition_ranks(g_shown)
    got = judge(g_shown, g_exact, g_reps, ranks)
    k = values.size
    adjusted = adjust_pairs(pairwise_p_values(g_exact, g_reps), "holm")
    # i above j: significant, and in the order shown (shown values and exact ones)
    above = (adjusted < ALPHA) & (g_shown[:, None] > g_shown[None, :] + 1e-9)
    above &= g_exact[:, None] > g_exact[None, :]
    np.fill_diagonal(above, False)
    bad = 0
    for i in range(k):
        low, high, verdict = int(got.low[i]), int(got.high[i]), got.verdict[i]
        ok = low <= ranks[i] <= high  # the rank interval contains the rank shown
        ok &= low == 1 + above[:, i].sum() and high == k - above[i].sum()
        if ranks[i] == 1:
            ok &= verdict == "best"
        elif not above[:, i].any():
            ok &= verdict == "indistinguishable" and low == 1
        else:
            ok &= verdict == "below" and low > 1
            below = got.below[i]
            ok &= below == int(ranks[above[:, i]].max())
            # the row ranked #k is significantly better, and shown above
            ok &= any(above[j, i] and ranks[j] == below for j in range(k))
        if low == high == 1:  # interval {1}: above every other (all "significantly below")
            ok &= bool(above[i, np.arange(k) != i].all())
            ok &= verdict == "best" and all(got.verdict[j] == "below" for j in range(k) if j != i)
        if got.letters is not None:
            for j in range(k):
                if j != i:
                    share = bool(set(got.letters[i]) & set(got.letters[j]))
                    ok &= share == (not (above[i, j] or above[j, i]))
        bad += not ok
    return k, bad


def test_200_simulated_boards_rank_within_interval_and_verdicts_agree() -> None:
    """Random systems (accuracies close or apart), some tied (same value on other items), some
    identical (the same answers); each board in a random direction (higher, lower, a target)."""
    rng = np.random.default_rng(14)
    rows = violations = tied_rows = 0
    ways = [Direction("higher"), Direction("lower"), Direction("target", 0.5)]
    for _board in range(200):
        k = int(rng.integers(2, 13))
        n = int(rng.integers(30, 400))
        accuracies = rng.choice(rng.random(int(rng.integers(1, k + 1))), k)  # repeats: close
        scores = (rng.random((n, k)) < accuracies).astype(float)
        for _ in range(int(rng.integers(0, 3))):  # identical systems
            a, b = rng.integers(0, k, 2)
            scores[:, b] = scores[:, a]
        if k > 2 and rng.random() < 0.5:  # the same value on other items
            a, b = rng.choice(k, 2, replace=False)
            scores[:, b] = rng.permutation(scores[:, a])
        values, reps = replicate_values(scores, replicates=300, rng=rng)
        way = ways[int(rng.integers(0, 3))]
        checked, bad = _check_board(way, values, reps)
        rows += checked
        violations += bad
        tied_rows += int(competition_ranks(way.goodness(values))[1].sum())
    assert rows > 1000 and tied_rows > 100  # ties are well represented
    assert violations == 0, f"{violations} of {rows} rows"


def test_released_values_never_contradict_the_order_shown() -> None:
    """Shown values that differ from the exact ones (Ladder, rounding): a significant
    difference counts only in the shown order; equal shown values are never separated."""
    rng = np.random.default_rng(3)
    scores = (rng.random((500, 4)) < np.array([0.9, 0.5, 0.48, 0.2])).astype(float)
    values, reps = replicate_values(scores, replicates=400, rng=rng)
    shown = np.array([0.5, 0.9, 0.48, 0.48])  # the first two swapped, the last two made equal
    rows, bad = _check_board(Direction("higher"), values, reps, shown)
    assert (rows, bad) == (4, 0)
    g = Direction().goodness
    got = judge(g(shown), g(values), g(reps), competition_ranks(shown)[0])
    assert not got.above[2, 3] and not got.above[3, 2]  # tied as shown: not separated
    assert not got.above[0, 1]  # exact 0.9 > 0.5, but shown below: no claim against the order


def _predictions(path: Path, truth: np.ndarray, right: np.ndarray) -> Path:
    labels = np.where(right, truth, 1 - truth)
    path.write_text(
        "".join(
            f'{{"id": "d{i:04d}", "prediction": "{"oui" if x else "non"}"}}\n'
            for i, x in enumerate(labels)
        ),
        "utf-8",
    )
    return path


def _demo_like(folder: Path) -> tuple[TestClient, np.ndarray, dict[str, np.ndarray]]:
    """A board like the demo's: two real-looking systems, a random baseline, and two constant
    baselines that give the same answers (majority, first choice: tied)."""
    rng = np.random.default_rng(2027)
    n = 600
    truth = rng.integers(0, 2, n)
    binary_campaign(folder, "demo", truth, id_prefix="d")
    app = create_app(Settings(db=f"sqlite:///{folder / 'p.db'}", artifacts=str(folder / "a")))
    db, artifacts = app.state.db, app.state.artifacts
    pin_partition_seed(db, create_campaign(db, folder / "campaign.yaml"), "demo")
    constant = truth == 1
    plans = {
        "Gemma 0-shot": rng.random(n) < 0.62,
        "Gemma 5-shot": rng.random(n) < 0.66,
        "Hasard": rng.random(n) < 0.5,
        "Majoritaire": constant,
        "Premier choix": constant.copy(),
    }
    for number, (team, right) in enumerate(plans.items()):
        token = join(db, f"user{number}", team)
        submit_predictions(
            db, artifacts, token, 1, "demo", _predictions(folder / f"{team}.jsonl", truth, right)
        )
    while run_one(db, artifacts) is not None:
        pass
    return TestClient(app), truth, plans


def test_a_demo_like_board_api_and_page_show_one_rule(tmp_path: Path) -> None:
    web, _truth, _plans = _demo_like(tmp_path)
    board = web.get("/api/campaigns/1/tasks/demo/leaderboard?phase=dev").json()
    rows = board["rows"]
    assert board["direction"] == {"better": "higher", "target": None, "symbol": "↑"}
    assert board["frozen"] is None and "verdict" in board["significance"]
    for row in rows:
        low, high = row["rank_interval"]
        assert low <= row["rank"] <= high
        assert (row["verdict"] in ("best", "indistinguishable")) == (low == 1)
    tied = [r for r in rows if r["team"] in ("Majoritaire", "Premier choix")]
    assert tied[0]["rank"] == tied[1]["rank"] and tied[0]["rank_label"].endswith("=")
    assert tied[0]["verdict"] == tied[1]["verdict"] and tied[0]["group"] == tied[1]["group"]
    assert rows[0]["verdict"] == "best" and rows[0]["rank_label"] == "1"
    page = web.get("/campaigns/1/tasks/demo/leaderboard?phase=dev").text
    assert "accuracy ↑ plus haut = meilleur" in page
    assert f'<td class="rank">{tied[0]["rank_label"]}</td>' in page
    assert '<td class="verdict">meilleur</td>' in page
    for row in rows:  # the page shows each row's verdict as the API gives it
        shown = {"best": "meilleur", "indistinguishable": "non distinguable du meilleur"}
        text = shown.get(row["verdict"]) or f"significativement sous le n° {row['below']}"
        assert f'<td class="verdict">{text}</td>' in page
    assert "se chevauchent" not in page and "Règle du classement" in page
    english = web.get("/campaigns/1/tasks/demo/leaderboard?phase=dev&lang=en").text
    assert "higher is better" in english and "How the board ranks" in english


def test_frozen_board_says_which_snapshot_and_shows_the_latest(tmp_path: Path) -> None:
    web, truth, _plans = _demo_like(tmp_path)
    db, artifacts = web.app.state.db, web.app.state.artifacts  # type: ignore[attr-defined]
    token = join(db, "late", "Retardataire")
    right = np.ones(truth.size, dtype=bool)
    submit_predictions(
        db, artifacts, token, 1, "demo", _predictions(tmp_path / "late.jsonl", truth, right)
    )  # queued before the end, scored after the first snapshot
    ended = datetime.now(UTC) - timedelta(hours=1)
    with db.begin() as s:
        s.execute(update(Phase).values(ends_at=ended))
    first = publish(db, 1, "dev", "demo", "phase ended", now=ended + timedelta(minutes=5))
    api = "/api/campaigns/1/tasks/demo/leaderboard?phase=dev&part=private"
    board = web.get(api).json()
    assert board["frozen"]["id"] == first and board["frozen"]["reason"] == "phase ended"
    assert "Retardataire" not in {r["team"] for r in board["rows"]}
    page = web.get("/campaigns/1/tasks/demo/leaderboard?phase=dev&part=private").text
    day = (ended + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M UTC")
    assert f"Classement figé : instantané du {day}, fin de la phase." in page
    while run_one(db, artifacts) is not None:
        pass
    second = publish(db, 1, "dev", "demo", "rescore after a fix", now=ended + timedelta(hours=2))
    board = web.get(api).json()
    assert board["frozen"]["id"] == second and board["frozen"]["supersedes"] == first
    assert board["rows"][0]["team"] == "Retardataire"  # the republished snapshot is shown
    assert board["rows"][0]["verdict"] == "best"
    page = web.get("/campaigns/1/tasks/demo/leaderboard?phase=dev&part=private").text
    later = (ended + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M UTC")
    assert f"instantané du {later}, « rescore after a fix »" in page
    assert f"republié : il remplace l&#39;instantané du {day}" in page
    assert ">Retardataire</th>" in page
    english = web.get("/campaigns/1/tasks/demo/leaderboard?phase=dev&part=private&lang=en")
    assert f"Frozen leaderboard: snapshot of {later}" in english.text
    listed = snapshots(db, 1, "demo")
    assert [s["superseded_by"] for s in listed] == [second, None]
    public = web.get("/api/campaigns/1/tasks/demo/leaderboard?phase=dev").json()
    assert public["frozen"]["id"] == second  # both parts of the latest snapshot


def test_a_closed_campaign_says_where_its_frozen_results_are(tmp_path: Path) -> None:
    """Like the demo's closed campaign: every submission in the dev phase, none in the test
    phase. Both boards are frozen; the test phase's says so, and points to the dev results."""
    from tests.campaigns.conftest import EXAMPLE, campaign_file

    from palmares.campaigns import freeze_ended

    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", artifacts=str(tmp_path / "a")))
    db, artifacts = app.state.db, app.state.artifacts
    create_campaign(db, campaign_file(tmp_path))
    in_dev = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    token = join(db, "alice", "lab-a")
    submit_predictions(db, artifacts, token, 1, "avis-fr", EXAMPLE / "baseline.jsonl", in_dev)
    while run_one(db, artifacts, clock=lambda: in_dev) is not None:
        pass
    now = datetime.now(UTC)
    with db.begin() as s:  # the campaign is over: dev ended 20 days ago, test 13
        s.execute(update(Phase).where(Phase.kind == "dev").values(
            starts_at=now - timedelta(days=60), ends_at=now - timedelta(days=20)))  # fmt: skip
        s.execute(update(Phase).where(Phase.kind == "test").values(
            starts_at=now - timedelta(days=20), ends_at=now - timedelta(days=13)))  # fmt: skip
    assert len(freeze_ended(db, now)) == 2
    web = TestClient(app)
    final = web.get("/campaigns/1/tasks/avis-fr/leaderboard?phase=test&part=private").text
    assert "Aucune soumission notée pour l&#39;instant" not in final
    assert "Classement figé : instantané du" in final and "fin de la phase" in final
    assert "Aucune soumission n&#39;a été notée dans cette phase. Résultats figés :" in final
    assert 'href="/campaigns/1/tasks/avis-fr/leaderboard?phase=dev&amp;part=private"' in final
    dev = web.get("/campaigns/1/tasks/avis-fr/leaderboard?phase=dev&part=private").text
    assert "Classement figé" in dev and ">lab-a</th>" in dev
    assert '<td class="verdict">meilleur</td>' in dev
