"""Holm, Benjamini–Hochberg, all-pairs comparisons and compact letter displays."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as st

from palmares.stats import (
    adjust_pairs,
    all_pairs,
    benjamini_hochberg,
    compact_letters,
    holm,
    paired_bootstrap,
    paired_permutation,
)


def test_holm_hand_worked() -> None:
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.06
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm(np.array([0.5, 0.6])) == pytest.approx([1.0, 1.0])


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.random.default_rng(0).random(40) ** 3
    assert benjamini_hochberg(p) == pytest.approx(st.false_discovery_control(p, method="bh"))
    # hand-worked: p = (0.01, 0.04, 0.03, 0.005) → sorted·4/rank = 0.02, 0.02, 0.04, 0.04
    assert benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.005])) == pytest.approx(
        [0.02, 0.04, 0.04, 0.02]
    )


def test_adjust_pairs_uses_each_pair_once() -> None:
    p = np.array([[1, 0.01, 0.04], [0.01, 1, 0.03], [0.04, 0.03, 1]])
    adj = adjust_pairs(p, "holm")
    assert adj == pytest.approx(adj.T)
    assert [adj[0, 1], adj[1, 2], adj[0, 2]] == pytest.approx([0.03, 0.06, 0.06])
    assert adjust_pairs(p, "none") == pytest.approx(p)


def _check_letters(letters: list[str], sig: np.ndarray) -> None:
    for i, j in itertools.combinations(range(len(letters)), 2):
        shares = bool(set(letters[i]) & set(letters[j]))
        assert shares != bool(sig[i, j]), (i, j, letters)


def test_letters_hand_worked() -> None:
    # ranked 1 > 2 > 3 > 4; significant: 1–3, 1–4, 2–4 → a, ab, bc, c
    sig = np.zeros((4, 4), dtype=bool)
    for i, j in [(0, 2), (0, 3), (1, 3)]:
        sig[i, j] = sig[j, i] = True
    assert compact_letters(np.array([0.9, 0.8, 0.7, 0.6]), sig) == ["a", "ab", "bc", "c"]
    # the same systems in another input order, and "lower is better"
    order = [2, 0, 3, 1]
    letters = compact_letters(np.array([0.9, 0.8, 0.7, 0.6])[order], sig[np.ix_(order, order)])
    assert letters == ["bc", "a", "c", "ab"]
    assert compact_letters(np.array([1, 2, 3, 4.0]), sig, higher_is_better=False) == [
        "a",
        "ab",
        "bc",
        "c",
    ]


def test_letters_extremes() -> None:
    est = np.array([0.3, 0.5, 0.4])
    assert compact_letters(est, np.zeros((3, 3), dtype=bool)) == ["a", "a", "a"]
    all_sig = ~np.eye(3, dtype=bool)
    assert compact_letters(est, all_sig) == ["c", "a", "b"]


def test_letters_piepho_example() -> None:
    """A non-interval pattern (the kind insert-and-absorb exists for, Piepho 2004): only 1–2
    and 3–4 differ. The four other pairs must each share a letter that neither 1–2 nor 3–4
    share, so the display needs four letters: {1,3}, {1,4}, {2,3}, {2,4}."""
    sig = np.zeros((4, 4), dtype=bool)
    for i, j in [(0, 1), (2, 3)]:
        sig[i, j] = sig[j, i] = True
    letters = compact_letters(np.array([4, 3, 2, 1.0]), sig)
    _check_letters(letters, sig)
    assert len(set("".join(letters))) == 4  # {1,3}, {1,4}, {2,3}, {2,4}: all four needed
    assert letters[0].startswith("a")


def test_letters_random_patterns_are_exact() -> None:
    """For random significance patterns (k up to 12), sharing a letter ⇔ not significant,
    every system has a letter, and the best system carries 'a'."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        k = int(rng.integers(2, 13))
        est = rng.random(k)
        # interval-like patterns (from gaps in the estimates) and arbitrary ones
        if rng.random() < 0.5:
            gap = np.abs(est[:, None] - est[None, :])
            sig = gap > rng.uniform(0.1, 0.5)
        else:
            upper = np.triu(rng.random((k, k)) < rng.uniform(0.1, 0.9), 1)
            sig = upper | upper.T
        letters = compact_letters(est, sig)
        _check_letters(letters, sig)
        assert all(letters)
        assert "a" in letters[int(np.argmax(est))]


def test_all_pairs_bootstrap() -> None:
    rng = np.random.default_rng(2)
    base = rng.beta(2, 2, 500)
    systems = [np.clip(base + shift + rng.normal(0, 0.1, 500), 0, 1) for shift in (0, 0, 0.1)]
    res = all_pairs(systems, rng=np.random.default_rng(3))
    assert res.estimates == pytest.approx([s.mean() for s in systems])
    assert res.differences[2, 0] == pytest.approx(systems[2].mean() - systems[0].mean())
    assert res.significant[2, 0] and res.significant[2, 1] and not res.significant[0, 1]
    assert res.adjusted[0, 1] >= res.p_values[0, 1]
    single = paired_bootstrap(systems[2], systems[0], rng=np.random.default_rng(4))
    assert res.low[2, 0] == pytest.approx(single.low, abs=3e-3)
    assert res.high[0, 2] == pytest.approx(-single.low, abs=3e-3)
    letters = compact_letters(res.estimates, res.significant)
    assert letters[2] == "a" and set(letters[:2]) == {"b"}


def test_all_pairs_permutation_is_paired_permutation_per_pair() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.random(60), rng.random(60) + 0.1
    res = all_pairs(
        [a, b], test="permutation", correction="bh", replicates=999, rng=np.random.default_rng(6)
    )
    one = paired_permutation(a, b, permutations=999, rng=np.random.default_rng(6))
    assert res.p_values[0, 1] == res.p_values[1, 0] == one.p_value
    assert res.adjusted[0, 1] == one.p_value  # one pair: nothing to adjust
    assert res.method == "paired permutation, bh"
