"""Text parsers and normalisers, fuzzed: answer normalisation (``metrics/normalize.py``), the
French pack's number reader, refusal detector and generators (dates, units, arithmetic).

Properties: nothing raises on any text; normalisers are idempotent and leave no punctuation
or doubled spaces; a number written the French way reads back as its value; every answer
matches itself; generators are deterministic and their answers are readable.
"""

from __future__ import annotations

import string
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palmares.metrics.normalize import (
    is_french,
    normalize_answer,
    normalize_answer_en,
    normalize_answer_fr,
    normalize_tokens,
)
from palmares.packs.fr import calcul, dates, unites
from palmares.packs.fr._generation import nombre_fr
from palmares.packs.fr.number import exact_number_score, first_number, reference_number
from palmares.packs.fr.refusal import WINDOW, is_refusal, normalise, refusal_pattern

chars = st.characters(exclude_categories=("Cs",))
# text with the characters these functions care about, mixed with anything
french = st.text(
    st.sampled_from(list("lLdDeEaA'’‘ʼ -,.;:!?«»…–—\u00a0\u202f0123456789éÉàôçœ\u0301\u0307İẞ"))
    | chars,
    max_size=30,
)
words = st.lists(
    st.sampled_from(
        [
            "le",
            "la",
            "les",
            "l'",
            "d’",
            "un",
            "the",
            "an",
            "a",
            "de",
            "du",
            "aux",
            "peut-être",
            "aujourd'hui",
            "Je",
            "ne",
            "peux",
            "pas",
            "désolé,",
            "mais",
            "I",
            "can't",
            "help",
            "12 500",
            "2,5",
            "−3",
            "sorry",
        ]
    )
    | french,
    max_size=8,
).map(" ".join)
any_text = french | words


# --- answer normalisation -----------------------------------------------------------------------


@given(text=any_text)
def test_english_normalisation_is_idempotent_and_clean(text: str) -> None:
    once = normalize_answer_en(text)
    assert normalize_answer_en(once) == once
    assert once == " ".join(once.split())
    assert not set(once) & set(string.punctuation)


@given(text=any_text)
def test_french_normalisation_is_idempotent_and_clean(text: str) -> None:
    once = normalize_answer_fr(text)
    assert normalize_answer_fr(once) == once
    assert once == " ".join(once.split())
    assert not any(unicodedata.category(c).startswith("P") for c in once)
    assert not set(once) & set(string.punctuation)


@given(
    text=any_text, language=st.sampled_from(["fr", "fr-CA", "en", "de", ""]) | st.text(max_size=5)
)
def test_tokens_are_the_normalised_answer_split(text: str, language: str) -> None:
    assert normalize_tokens(text, language) == normalize_answer(text, language).split()
    assert isinstance(is_french(language), bool)


# --- French numbers -----------------------------------------------------------------------------

decimals = st.decimals(
    min_value=-(10**12), max_value=10**12, places=4, allow_nan=False, allow_infinity=False
)


@given(value=decimals | st.integers(-(10**15), 10**15), groupes=st.booleans(), around=words)
def test_numbers_written_the_french_way_read_back(
    value: Decimal | int, groupes: bool, around: str
) -> None:
    text = nombre_fr(value, groupes=groupes)
    assert first_number(text) == Decimal(value)
    assert reference_number(f" {text} ") == Decimal(value)
    assert exact_number_score(f"Réponse : {text} €", text) == 1.0
    if first_number(around) is None:
        assert first_number(f"{around} {text}") == Decimal(value)


@given(text=any_text, language=st.sampled_from(["fr", "en"]))
def test_number_reading_never_raises_and_every_answer_matches_itself(
    text: str, language: str
) -> None:
    number = first_number(text)
    assert number is None or number.is_finite()
    reference_number(text)
    assert exact_number_score(text, text, language) == 1.0


# --- refusals -----------------------------------------------------------------------------------


@given(text=any_text)
def test_refusal_detection_reads_the_normalised_opening(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert refusal_pattern(text) == refusal_pattern(once)
    assert is_refusal(text) == (refusal_pattern(text) is not None)
    if not once:
        assert refusal_pattern(text) == "(empty answer)"
    # only the opening counts: what comes after the window changes nothing
    assert (
        refusal_pattern(once[:WINDOW] + " je ne peux pas" * (len(once) >= WINDOW))
        == (refusal_pattern(text))
        or len(once) < WINDOW
    )


@given(prefix=st.sampled_from(["", "Bonjour. ", "Hello! "]))
def test_documented_refusals_are_found(prefix: str) -> None:
    for text in ("Je ne peux pas vous aider.", "Désolé, mais non.", "I can't help with that."):
        assert is_refusal(prefix + text)


# --- the generators -----------------------------------------------------------------------------

GENERATORS = {
    "dates-fr": dates.generate,
    "unites-fr": unites.generate,
    "calcul-fr": calcul.generate,
}


@pytest.mark.parametrize("name", list(GENERATORS))
@given(seed=st.integers(0, 2**64), n=st.integers(1, 12))
def test_generators_are_deterministic_and_their_answers_readable(
    name: str, seed: int, n: int
) -> None:
    generate = GENERATORS[name]
    rows = generate(seed, n)
    assert rows == generate(seed, n)
    assert len({r["id"] for r in rows}) == len({r["question"] for r in rows}) == n
    for row in rows:
        answer = row["reponse"]
        assert answer in dates.JOURS or reference_number(answer) is not None, row
        assert exact_number_score(answer, answer) == 1.0
        if answer not in dates.JOURS:
            assert exact_number_score(f"La réponse est {answer}.", answer) == 1.0
    assert not {r["question"] for r in generate(seed + 1, n, {r["question"] for r in rows})} & {
        r["question"] for r in rows
    }
