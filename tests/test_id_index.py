"""The vectorised id alignment behind the predictions fast path."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from palmares.tasks import IdIndex
from palmares.tasks._id_index import string_hashes

IDS = ["q-1", "q-10", "élève-7", "", "a" * 40, "b", "日本語", "q-2"]


def test_hash_of_a_string_does_not_depend_on_its_neighbours() -> None:
    full = string_hashes(pa.array(IDS))
    assert len(set(full.tolist())) == len(IDS)
    for i, s in enumerate(IDS):
        assert string_hashes(pa.array([s]))[0] == full[i]
    assert string_hashes(pa.array(IDS).slice(2, 3)).tolist() == full[2:5].tolist()
    assert string_hashes(pa.array(IDS, type=pa.large_string())).tolist() == full.tolist()


@pytest.mark.parametrize("seed", range(5))
def test_alignment_of_a_permutation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    items = [f"id-{i}" * int(rng.integers(1, 4)) + str(i) for i in range(500)]
    index = IdIndex(pa.array(items))
    perm = rng.permutation(len(items))
    shuffled = pa.array([items[i] for i in perm])
    order = index.alignment(shuffled)
    assert order is not None
    assert shuffled.take(pa.array(order)).to_pylist() == items


def test_alignment_refuses_anything_but_a_permutation() -> None:
    index = IdIndex(pa.array(IDS))
    assert index.alignment(pa.array(IDS[:-1])) is None  # missing
    assert index.alignment(pa.array([*IDS[:-1], IDS[0]])) is None  # duplicate
    assert index.alignment(pa.array([*IDS[:-1], "unknown"])) is None  # unknown


def test_a_hash_collision_is_caught_by_the_exact_comparison(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Different ids with equal hashes must not be taken for each other."""
    import palmares.tasks._id_index as mod

    monkeypatch.setattr(mod, "string_hashes", lambda a: np.arange(len(a), dtype=np.uint64))
    index = IdIndex(pa.array(["a", "b", "c"]))
    assert index.alignment(pa.array(["a", "b", "c"])) is not None
    assert index.alignment(pa.array(["a", "b", "x"])) is None
