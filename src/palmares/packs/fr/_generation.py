"""What the three generated tasks share: problem records, item streams, French number writing.

A generator is a list of *modèles* (templates), each a function of a :class:`Tirage` returning a
:class:`Probleme`. Item ``i`` uses template ``i mod k`` (so every template gets the same share
of items and its slice a usable interval) and its own stream of draws, keyed by the generator's
name and version, the seed, ``i`` and an attempt number: a question already asked in the split
is drawn again with the next attempt, and so is a question of an excluded split (the few-shot
split excludes the test split's questions, so that an example never repeats a test item).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from palmares.packs.fr._tirage import Tirage

#: most items one recipe may ask for (the templates' variety is finite)
MAX_ITEMS = 5000
_MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Probleme:
    """One generated item: the question, its exact answer (as French text), how it is worked
    out (``explication``, for auditing; not shown to systems), and its slice values."""

    question: str
    reponse: str
    explication: str
    slices: dict[str, str] = field(default_factory=dict)


Modele = Callable[[Tirage], Probleme]


def generer(
    name: str,
    version: int,
    modeles: Sequence[Modele],
    seed: int,
    n: int,
    exclude: Collection[str] = (),
) -> list[dict[str, Any]]:
    """``n`` items from ``seed``: a record per item with ``id``, ``question``, ``reponse``,
    ``explication`` and the slice fields. Same arguments, same records, byte for byte.
    Questions in ``exclude`` (another split's) are drawn again, like repeated ones."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set(exclude)
    for i in range(n):
        modele = modeles[i % len(modeles)]
        for attempt in range(_MAX_ATTEMPTS):
            probleme = modele(Tirage(name, version, seed, i, attempt))
            if probleme.question not in seen:
                break
        else:
            raise ValueError(
                f"{name}: cannot draw {n} different items (template {modele.__name__} "
                f"ran out of new questions at item {i + 1}); ask for fewer"
            )
        seen.add(probleme.question)
        rows.append(
            {
                "id": f"{name.removesuffix('-fr')}-{i + 1:04d}",
                "question": probleme.question,
                "reponse": probleme.reponse,
                **probleme.slices,
                "explication": probleme.explication,
            }
        )
    return rows


def nombre_fr(value: int | Decimal, groupes: bool = False) -> str:
    """A number as French writes it: decimal comma, no exponent, no trailing zeros; with
    ``groupes``, a space between groups of three digits from 10 000 on (``12 500``).

    >>> nombre_fr(Decimal("2.50")), nombre_fr(Decimal("2.5E+3")), nombre_fr(12500, groupes=True)
    ('2,5', '2500', '12 500')
    """
    number = Decimal(value).normalize()
    text = format(number, "f")
    whole, _, decimals = text.partition(".")
    if groupes and len(whole.lstrip("-")) > 4:
        sign = "-" if whole.startswith("-") else ""
        digits = whole.lstrip("-")
        head = len(digits) % 3 or 3
        parts = [digits[:head]] + [digits[j : j + 3] for j in range(head, len(digits), 3)]
        whole = sign + " ".join(parts)
    return f"{whole},{decimals}" if decimals else whole
