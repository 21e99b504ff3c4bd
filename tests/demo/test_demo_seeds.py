"""The demo's hidden arithmetic items come from a secret seed (issue #13: seed 202703, the
campaign's name, was guessed offline in 4 tries and rebuilt every reference): drawn at random,
kept in the demo folder so that a rebuild reuses it, never in a public name."""

from __future__ import annotations

import json
from pathlib import Path

from palmares.demo.build import SEEDS_FILE, _calcul_task, _keep_seeds, calcul_seeds
from palmares.tasks import load_task


def test_seeds_are_random_secret_and_kept(tmp_path: Path) -> None:
    slugs = ["automne-2026", "printemps-2027"]
    first = calcul_seeds(tmp_path, slugs)
    assert set(first) == set(slugs) and len(set(first.values())) == 2
    assert all(2**40 < seed < 2**63 for seed in first.values())  # 63 random bits (≈ never small)
    assert calcul_seeds(tmp_path, slugs) != first  # nothing kept yet: new draws
    _keep_seeds(tmp_path, first)
    assert (tmp_path / SEEDS_FILE).stat().st_mode & 0o077 == 0
    assert calcul_seeds(tmp_path, slugs) == first  # a rebuild reuses them
    assert calcul_seeds(tmp_path, [*slugs, "ete-2027"])["printemps-2027"] == first["printemps-2027"]
    (tmp_path / SEEDS_FILE).write_text("not json")
    assert set(calcul_seeds(tmp_path, slugs)) == set(slugs)  # a damaged file: fresh seeds


def test_the_task_copy_is_named_by_its_campaign_not_its_seed(tmp_path: Path) -> None:
    seed = calcul_seeds(tmp_path, ["c"])["c"]
    path = _calcul_task(tmp_path, "c", seed)
    assert str(seed) not in str(path) and path.parent.name == "calcul-fr-c"
    assert json.loads((path.parent / "test.json").read_text())["seed"] == seed
    task = load_task(path)
    assert len(task.items("test")) == 40
    pack = load_task(Path(__file__).parents[2] / "src/palmares/packs/fr/calcul-fr/task.yaml")
    assert task.public_hash(["dev"]) != task.hash
    # the public sees the same spec as the pack's; the hidden items are the campaign's own
    assert task.items("test").references != pack.items("test").references[:40]
