"""``dates-fr``: dates and durations in French, with exact answers.

Six templates (the ``modele`` slice): ``jour_semaine`` (the day of the week of a date,
1900–2099), ``ecart_jours`` (days from one date to another, or nights of a stay),
``ajout_jours`` (the day of the week some days later or earlier), ``duree_minutes`` (minutes
between two times, sometimes across midnight), ``age`` (age in completed years on a date) and
``bissextile`` (days in a year or in February, 1583–2400, century rules included). Answers are a
number, or a weekday in lower case. Dates use the proleptic Gregorian calendar of
:mod:`datetime` (every date here is after 1582). Nobody is born on 29 February here: the age of
such a person on 28 February is a matter of convention.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from palmares.packs.fr._generation import Probleme, generer
from palmares.packs.fr._tirage import Tirage

NAME = "dates-fr"
VERSION = 1

JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def date_fr(d: date) -> str:
    """``1er mai 2025``, ``14 juillet 1989``."""
    jour = "1er" if d.day == 1 else str(d.day)
    return f"{jour} {MOIS[d.month - 1]} {d.year}"


def heure_fr(minutes: int) -> str:
    """Minutes after midnight as ``9 h 05`` (``14 h`` on the hour)."""
    h, m = divmod(minutes, 60)
    return f"{h} h" if m == 0 else f"{h} h {m:02d}"


def _date(t: Tirage, first: int, last: int) -> date:
    low, high = date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal()
    return date.fromordinal(t.entier(low, high))


def _bissextile(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def jour_semaine(t: Tirage) -> Probleme:
    d = _date(t, 1900, 2099)
    return Probleme(
        f"Quel jour de la semaine correspond au {date_fr(d)} ?",
        JOURS[d.weekday()],
        f"{d.isoformat()} : {JOURS[d.weekday()]}",
        {"modele": "jour_semaine"},
    )


def ecart_jours(t: Tirage) -> Probleme:
    debut = _date(t, 1950, 2050)
    ecart = t.entier(2, 400)
    fin = debut + timedelta(days=ecart)
    if t.entier(0, 1) == 0:
        question = (
            f"Combien de jours faut-il ajouter au {date_fr(debut)} pour arriver au {date_fr(fin)} ?"
        )
    else:
        question = (
            f"Un séjour commence le {date_fr(debut)} et se termine le {date_fr(fin)}. "
            "Combien de nuits dure-t-il ?"
        )
    return Probleme(
        question,
        str(ecart),
        f"{fin.isoformat()} − {debut.isoformat()} = {ecart} jours",
        {"modele": "ecart_jours"},
    )


def ajout_jours(t: Tirage) -> Probleme:
    d = _date(t, 1950, 2050)
    k = t.entier(2, 500)
    jour = JOURS[d.weekday()]
    if t.entier(0, 1) == 0:
        cible = d + timedelta(days=k)
        question = (
            f"Nous sommes le {jour} {date_fr(d)}. Quel jour de la semaine serons-nous "
            f"dans {k} jours ?"
        )
        calcul = f"{d.isoformat()} + {k} j = {cible.isoformat()}"
    else:
        cible = d - timedelta(days=k)
        question = (
            f"Nous sommes le {jour} {date_fr(d)}. Quel jour de la semaine était-ce "
            f"il y a {k} jours ?"
        )
        calcul = f"{d.isoformat()} − {k} j = {cible.isoformat()}"
    return Probleme(
        question,
        JOURS[cible.weekday()],
        f"{calcul} : {JOURS[cible.weekday()]}",
        {"modele": "ajout_jours"},
    )


def duree_minutes(t: Tirage) -> Probleme:
    depart = 5 * t.entier(0, 24 * 12 - 1)
    duree = 5 * t.entier(3, 120)
    arrivee = depart + duree
    if arrivee < 24 * 60:
        question = (
            f"Un train part à {heure_fr(depart)} et arrive à {heure_fr(arrivee)} le même jour. "
            "Combien de minutes dure le trajet ?"
        )
    else:
        question = (
            f"Un train part à {heure_fr(depart)} et arrive le lendemain à "
            f"{heure_fr(arrivee - 24 * 60)}. Combien de minutes dure le trajet ?"
        )
    return Probleme(
        question,
        str(duree),
        f"{heure_fr(depart)} + {duree} min = {heure_fr(arrivee % (24 * 60))}",
        {"modele": "duree_minutes"},
    )


def age(t: Tirage) -> Probleme:
    naissance = _date(t, 1930, 2015)
    while naissance.month == 2 and naissance.day == 29:
        naissance = _date(t, 1930, 2015)
    jour = naissance + timedelta(days=t.entier(400, 90 * 365))
    ans = jour.year - naissance.year - ((jour.month, jour.day) < (naissance.month, naissance.day))
    return Probleme(
        f"Le {date_fr(jour)}, quel âge a, en années révolues, une personne née le "
        f"{date_fr(naissance)} ?",
        str(ans),
        f"de {naissance.isoformat()} à {jour.isoformat()} : {ans} ans révolus",
        {"modele": "age"},
    )


def bissextile(t: Tirage) -> Probleme:
    sorte = t.entier(0, 3)
    if sorte == 0:  # a century year: leap only when divisible by 400
        year = 100 * t.entier(16, 24)
    elif sorte == 1:  # divisible by 4
        year = 4 * t.entier(396, 600)
    else:
        year = t.entier(1583, 2400)
    leap = _bissextile(year)
    if t.entier(0, 1) == 0:
        question, answer = f"Combien de jours compte l'année {year} ?", 366 if leap else 365
    else:
        question = f"Combien de jours compte le mois de février {year} ?"
        answer = 29 if leap else 28
    why = "bissextile" if leap else "non bissextile"
    return Probleme(question, str(answer), f"{year} : {why}", {"modele": "bissextile"})


MODELES = (jour_semaine, ecart_jours, ajout_jours, duree_minutes, age, bissextile)


def generate(seed: int, n: int, exclude: Collection[str] = ()) -> list[dict[str, Any]]:
    """``n`` questions from ``seed`` (fields ``id, question, reponse, modele, explication``),
    none of them in ``exclude``."""
    return generer(NAME, VERSION, MODELES, seed, n, exclude)
