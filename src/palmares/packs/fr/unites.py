"""``unites-fr``: unit conversions with exact answers, written the French way (decimal comma).

Four quantities (the ``grandeur`` slice) — ``longueur`` (km, m, cm, mm), ``masse`` (t, kg, g,
mg), ``contenance`` (L, dL, cL, mL) and ``duree`` (h, min, s) — converted towards a smaller
unit or a larger one (the ``sens`` slice: ``vers_petite``, ``vers_grande``). Values are drawn
so that the answer is exact with at most four decimals (0,25 h is 15 min; 100 min is never
asked in hours). Questions name the units by symbol (``Convertis 2,5 km en m.``) or in words,
with French agreement (``1,5 litre``, ``2 litres``); durations may also be compound
(``2 h 15 min``).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from palmares.packs.fr._generation import Probleme, generer, nombre_fr
from palmares.packs.fr._tirage import Tirage

NAME = "unites-fr"
VERSION = 1

Unite = tuple[str, str, str, Decimal]  # symbol, singular, plural, size in the base unit

GRANDEURS: dict[str, tuple[Unite, ...]] = {
    "longueur": (
        ("km", "kilomètre", "kilomètres", Decimal(1000)),
        ("m", "mètre", "mètres", Decimal(1)),
        ("cm", "centimètre", "centimètres", Decimal("0.01")),
        ("mm", "millimètre", "millimètres", Decimal("0.001")),
    ),
    "masse": (
        ("t", "tonne", "tonnes", Decimal(1_000_000)),
        ("kg", "kilogramme", "kilogrammes", Decimal(1000)),
        ("g", "gramme", "grammes", Decimal(1)),
        ("mg", "milligramme", "milligrammes", Decimal("0.001")),
    ),
    "contenance": (
        ("L", "litre", "litres", Decimal(1)),
        ("dL", "décilitre", "décilitres", Decimal("0.1")),
        ("cL", "centilitre", "centilitres", Decimal("0.01")),
        ("mL", "millilitre", "millilitres", Decimal("0.001")),
    ),
    "duree": (
        ("h", "heure", "heures", Decimal(3600)),
        ("min", "minute", "minutes", Decimal(60)),
        ("s", "seconde", "secondes", Decimal(1)),
    ),
}
_MAX_RATIO = Decimal(1_000_000)  # t → mg (10⁹) is never asked


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _nom(unite: Unite, value: Decimal) -> str:
    """French agreement: singular below 2 (``1,5 litre``), plural from 2 on."""
    return unite[1] if abs(value) < 2 else unite[2]


def _de(mot: str) -> str:
    """``de mètres``, ``d'heures``."""
    return f"d'{mot}" if mot[0] in "aeéèêiouyh" else f"de {mot}"


def _question(t: Tirage, value: Decimal, source: Unite, cible: Unite) -> str:
    v = nombre_fr(value, groupes=True)
    forme = t.entier(0, 2)
    if forme == 0:
        return f"Convertis {v} {source[0]} en {cible[0]}."
    if forme == 1:
        return f"Combien {_de(cible[2])} y a-t-il dans {v} {_nom(source, value)} ?"
    return f"Exprime {v} {_nom(source, value)} en {cible[2]}."


def _paire(t: Tirage, unites: tuple[Unite, ...]) -> tuple[Unite, Unite]:
    while True:
        source, cible = t.deux(unites)
        ratio = max(source[3], cible[3]) / min(source[3], cible[3])
        if ratio <= _MAX_RATIO:
            return source, cible


def _decimale(t: Tirage, grandeur: str) -> Probleme:
    """Powers of ten: the value has up to two decimals, the answer up to four."""
    source, cible = _paire(t, GRANDEURS[grandeur])
    while True:
        value = Decimal(t.entier(1, 9999)).scaleb(-t.entier(0, 2)).normalize()
        answer = (value * source[3] / cible[3]).normalize()
        if _decimals(answer) <= 4 and answer < 10_000_000:
            break
    sens = "vers_petite" if source[3] > cible[3] else "vers_grande"
    return Probleme(
        _question(t, value, source, cible),
        nombre_fr(answer),
        f"{nombre_fr(value)} {source[0]} = {nombre_fr(answer)} {cible[0]}",
        {"grandeur": grandeur, "sens": sens},
    )


def _duree(t: Tirage) -> Probleme:
    """Durations: quarter units, so that every answer is exact (0,25 h = 15 min)."""
    source, cible = t.deux(GRANDEURS["duree"])
    ratio = max(source[3], cible[3]) / min(source[3], cible[3])
    quarts = Decimal(t.entier(1, 40)) / 4
    if source[3] > cible[3]:
        sens = "vers_petite"
        if t.entier(0, 3) == 0:  # compound: 2 h 15 min → min, 3 min 20 s → s
            big, small = source, GRANDEURS["duree"][GRANDEURS["duree"].index(source) + 1]
            whole, part = t.entier(1, 9), t.entier(1, 59)
            value_text = f"{whole} {big[0]} {part} {small[0]}"
            answer = whole * (big[3] / cible[3]) + part * (small[3] / cible[3])
            question = f"Combien {_de(cible[2])} y a-t-il dans {value_text} ?"
            return Probleme(
                question,
                nombre_fr(answer),
                f"{value_text} = {nombre_fr(answer)} {cible[0]}",
                {"grandeur": "duree", "sens": sens},
            )
        value, answer = quarts, quarts * ratio
    else:
        sens = "vers_grande"
        value, answer = quarts * ratio, quarts
    return Probleme(
        _question(t, value, source, cible),
        nombre_fr(answer),
        f"{nombre_fr(value)} {source[0]} = {nombre_fr(answer)} {cible[0]}",
        {"grandeur": "duree", "sens": sens},
    )


def longueur(t: Tirage) -> Probleme:
    return _decimale(t, "longueur")


def masse(t: Tirage) -> Probleme:
    return _decimale(t, "masse")


def contenance(t: Tirage) -> Probleme:
    return _decimale(t, "contenance")


def duree(t: Tirage) -> Probleme:
    return _duree(t)


MODELES = (longueur, masse, contenance, duree)


def generate(seed: int, n: int, exclude: Collection[str] = ()) -> list[dict[str, Any]]:
    """``n`` conversions from ``seed`` (fields ``id, question, reponse, grandeur, sens,
    explication``), none of whose questions is in ``exclude``."""
    return generer(NAME, VERSION, MODELES, seed, n, exclude)
