"""The generated tasks: deterministic per seed, fresh per seed, and right — every answer is
recomputed here from the question's own words, independently of the generators' code."""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import re
import shutil
from collections import Counter
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from palmares import load_task
from palmares.core import InputError
from palmares.packs.fr import calcul, dates, task_path, unites
from palmares.packs.fr._generation import nombre_fr
from palmares.packs.fr._tirage import Tirage

GENERATORS = {"calcul-fr": calcul, "dates-fr": dates, "unites-fr": unites}

# SHA-256 of the canonical JSON of generate(seed=1, n=30): a change of a template, of the draws
# or of Python must not move existing seeds' items. Change a template only with VERSION + 1.
PINNED = {
    "calcul-fr": "b7a2b76ab730a737ef273282dcd47e463caf485f60cf3643eca08ff203cefe8e",
    "dates-fr": "4a641bfb3788cbb6c161a5714de5f05629b1cb5943e2b2185047be7ef7f1ea7f",
    "unites-fr": "fdb43e2baa15a6d9efbcf6b28109ae69d144ae8aa930417036e850ac13d080cf",
}


def _canonical(rows: list[dict]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_bytes_other_seed_other_items(name: str) -> None:
    gen = GENERATORS[name].generate
    assert _canonical(gen(1, 30)) == _canonical(gen(1, 30))
    assert hashlib.sha256(_canonical(gen(1, 30))).hexdigest() == PINNED[name]
    first, other = gen(1, 60), gen(2, 60)
    assert [r["id"] for r in first] == [r["id"] for r in other]
    shared = {r["question"] for r in first} & {r["question"] for r in other}
    assert len(shared) <= 2  # a coincidence at most (a leap-year question, say)
    assert gen(1, 25) == first[:25]  # each item has its own stream: n only cuts the list
    big = gen(12345678901234567890, 300)  # seeds as large as wanted; no repeated question
    assert len({r["question"] for r in big}) == 300


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_task_hash_follows_the_seed(name: str, tmp_path: Path) -> None:
    folder = tmp_path / name
    shutil.copytree(task_path(name).parent, folder)
    before = load_task(folder / "task.yaml")
    assert load_task(folder / "task.yaml").dataset_hash("test") == before.dataset_hash("test")
    (folder / "test.json").write_text('{"seed": 987654321, "n": 200}', "utf-8")
    after = load_task(folder / "task.yaml")
    assert after.dataset_hash("test") != before.dataset_hash("test")
    assert after.hash != before.hash and len(after.items("test")) == 200


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ('{"seed": 1}', "n: required: an integer, got None"),
        ('{"seed": "1", "n": 5}', "seed: required: an integer, got '1'"),
        ('{"seed": 1, "n": true}', "n: required: an integer, got True"),
        ('{"seed": -1, "n": 5}', "the seed is an integer ≥ 0"),
        ('{"seed": 1, "n": 0}', "n is between 1 and 5,000, got 0"),
        ('{"seed": 1, "n": 5001}', "n is between 1 and 5,000, got 5001"),
        ('{"seed": 1, "n": 5, "graine": 2}', "unknown key 'graine'"),
        ('{"seed": 1, "n": 5, "exclude": 3}', "exclude: the name of another recipe file, got 3"),
        ('{"seed": 1, "n": 5, "exclude": "test.json"}', "a recipe cannot exclude itself"),
        ('{"seed": 1, "n": 5, "exclude": "absent.json"}', "absent.json: recipe file not found"),
        ('{"seed": 1, "n": 5, "exclude": "dev.json"}', "may not exclude another one in turn"),
        ("[1, 5]", "a recipe is a JSON object"),
        ('{"seed": 1, "n": 5', "invalid JSON"),
    ],
)
def test_a_bad_recipe_is_an_input_error_naming_the_file(
    recipe: str, message: str, tmp_path: Path
) -> None:
    folder = tmp_path / "calcul-fr"
    shutil.copytree(task_path("calcul-fr").parent, folder)
    (folder / "test.json").write_text(recipe, "utf-8")
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_task(folder / "task.yaml").items("test")
    assert str(info.value).startswith(str(folder))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_fewshot_split_never_repeats_a_test_question(name: str, tmp_path: Path) -> None:
    task = load_task(task_path(name))
    test, dev = (set(task.items(s).inputs["question"]) for s in ("test", "dev"))
    assert len(dev) == len(task.items("dev")) and not dev & test
    # whatever the test seed: a campaign changes test.json only
    folder = tmp_path / name
    shutil.copytree(task_path(name).parent, folder)
    for seed in range(5):
        (folder / "test.json").write_text(f'{{"seed": {seed}, "n": 600}}', "utf-8")
        task = load_task(folder / "task.yaml")
        questions = (set(task.items(s).inputs["question"]) for s in ("test", "dev"))
        assert not set.intersection(*questions)


def test_without_exclusion_dev_and_test_can_share_a_question() -> None:
    """Why the dev recipes exclude test.json: the shipped dates-fr seeds share a leap-year
    question when nothing is excluded."""
    dev = {r["question"] for r in dates.generate(20250712, 18)}
    test = {r["question"] for r in dates.generate(20250711, 180)}
    assert dev & test == {"Combien de jours compte l'année 1584 ?"}


def test_draws_are_uniform_and_in_range() -> None:
    t = Tirage("test", 1)
    counts = Counter(t.entier(0, 2) for _ in range(3000))
    assert set(counts) == {0, 1, 2} and all(900 < c < 1100 for c in counts.values())
    assert all(-3 <= t.entier(-3, 3) <= 3 for _ in range(200))
    assert all(len(set(t.deux("abc"))) == 2 for _ in range(200))
    assert Tirage("a", 1).entier(0, 10**9) == Tirage("a", 1).entier(0, 10**9)
    with pytest.raises(ValueError, match="empty range"):
        t.entier(2, 1)


def test_french_numbers() -> None:
    from decimal import Decimal

    assert nombre_fr(Decimal("0.750")) == "0,75"
    assert nombre_fr(Decimal("2.5E+3")) == "2500"
    assert nombre_fr(Decimal("12500"), groupes=True) == "12 500"
    assert nombre_fr(Decimal("1234567.5"), groupes=True) == "1 234 567,5"
    assert nombre_fr(Decimal("9999"), groupes=True) == "9999"


# --- answers recomputed from the questions --------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text)]


def _calcul(modele: str, q: str) -> int:
    n = _ints(q)
    if modele == "achats":
        a, x, b, y = n
        return a * x + b * y
    if modele == "monnaie":
        livre, sac, billet = n
        return billet - livre - sac
    if modele == "partage":
        total, garde, amis = n
        assert (total - garde) % amis == 0
        return (total - garde) // amis
    if modele == "ages":
        age, ecart, dans = n
        return (age + dans) + (age + ecart + dans)
    if modele == "vitesses":
        if q.startswith("Un cycliste"):
            d, h = n
            assert d % h == 0
            return d // h
        if "pendant" in q:
            v, h = n
            return v * h
        v, d = n
        assert (d * 60) % v == 0
        return d * 60 // v
    if modele == "pourcentages":
        prix, taux = n
        change = Fraction(prix * taux, 100)
        assert change.denominator == 1
        return int(prix - change if "baisse" in q else prix + change)
    if modele == "boites":
        total, taille = n[0], n[1]
        return math.ceil(total / taille)
    if modele == "epargne":
        deja, s, k = n
        return deja + s * k
    if modele == "recette":
        n1, q1, n2 = n
        assert q1 % n1 == 0
        return q1 // n1 * n2
    assert modele == "geometrie"
    if q.startswith("Un carré"):
        (perimetre,) = n
        return (perimetre // 4) ** 2
    longueur, largeur = n
    return 2 * (longueur + largeur) if "périmètre" in q else longueur * largeur


def test_calcul_answers_are_right() -> None:
    rows = calcul.generate(20250701, 200) + calcul.generate(99, 500)
    for r in rows:
        assert re.fullmatch(r"\d+", r["reponse"]), r
        assert int(r["reponse"]) == _calcul(r["modele"], r["question"]), r


MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre"]  # fmt: skip
JOURS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_DATE = re.compile(r"(1er|\d{1,2}) (" + "|".join(MOIS) + r") (\d{4})")


def _dates(q: str) -> list[date]:
    return [
        date(int(y), MOIS.index(m) + 1, 1 if d == "1er" else int(d)) for d, m, y in _DATE.findall(q)
    ]


def _minutes(text: str) -> int:
    h, m = re.fullmatch(r"(\d{1,2}) h(?: (\d{2}))?", text).groups()  # type: ignore[union-attr]
    return int(h) * 60 + int(m or 0)


def _date_answer(modele: str, q: str) -> str:
    if modele == "jour_semaine":
        (d,) = _dates(q)
        return JOURS[calendar.weekday(d.year, d.month, d.day)]
    if modele == "ecart_jours":
        d1, d2 = _dates(q)
        return str((d2 - d1).days)
    if modele == "ajout_jours":
        (d,) = _dates(q)
        stated = re.search(r"Nous sommes le (\w+) ", q).group(1)  # type: ignore[union-attr]
        assert stated == JOURS[d.weekday()], q
        k = int(re.search(r"(?:dans|il y a) (\d+) jours", q).group(1))  # type: ignore[union-attr]
        shift = k if "dans" in q else -k
        return JOURS[(d.weekday() + shift) % 7]
    if modele == "duree_minutes":
        start, end = (_minutes(t) for t in re.findall(r"\d{1,2} h(?: \d{2})?", q))
        return str(end - start + (24 * 60 if "lendemain" in q else 0))
    if modele == "age":
        jour, naissance = _dates(q)
        years = jour.year - naissance.year
        if (jour.month, jour.day) < (naissance.month, naissance.day):
            years -= 1
        return str(years)
    assert modele == "bissextile"
    (year,) = (int(y) for y in re.findall(r"\d{4}", q))
    if "février" in q:
        return str(calendar.monthrange(year, 2)[1])
    return str(366 if calendar.isleap(year) else 365)


def test_dates_answers_are_right() -> None:
    rows = dates.generate(20250711, 180) + dates.generate(99, 600)
    for r in rows:
        assert r["reponse"] == _date_answer(r["modele"], r["question"]), r


def test_dates_by_hand() -> None:
    """Dates anyone can check in a calendar."""
    bastille = "Quel jour de la semaine correspond au 14 juillet 1789 ?"
    assert _date_answer("jour_semaine", bastille) == "mardi"
    leap = "… au 1er février 2024 pour arriver au 1er mars 2024 ?"
    assert _date_answer("ecart_jours", leap) == "29"
    assert _date_answer("bissextile", "Combien de jours compte l'année 1900 ?") == "365"
    assert _date_answer("bissextile", "Combien de jours compte le mois de février 2000 ?") == "29"
    assert dates.date_fr(date(2025, 5, 1)) == "1er mai 2025"
    assert dates.heure_fr(9 * 60 + 5) == "9 h 05" and dates.heure_fr(14 * 60) == "14 h"


# units, written here again from the SI definitions (not imported from the generator)
UNITS = {
    "km": 1000, "m": 1, "cm": Fraction(1, 100), "mm": Fraction(1, 1000),
    "t": 1_000_000, "kg": 1000, "g": 1, "mg": Fraction(1, 1000),
    "L": 1, "dL": Fraction(1, 10), "cL": Fraction(1, 100), "mL": Fraction(1, 1000),
    "h": 3600, "min": 60, "s": 1,
}  # fmt: skip
NAMES = {
    "kilomètre": "km", "mètre": "m", "centimètre": "cm", "millimètre": "mm",
    "tonne": "t", "kilogramme": "kg", "gramme": "g", "milligramme": "mg",
    "litre": "L", "décilitre": "dL", "centilitre": "cL", "millilitre": "mL",
    "heure": "h", "minute": "min", "seconde": "s",
}  # fmt: skip
KIND = {"km": "longueur", "t": "masse", "L": "contenance", "h": "duree"}
_VALUE = r"(\d{1,3}(?: \d{3})+|\d+)(?:,(\d+))?"


def _fr(text: str) -> Fraction:
    whole, _, decimals = text.replace(" ", "").partition(",")
    return Fraction(int(whole + decimals), 10 ** len(decimals))


def _unit(word: str) -> str:
    if word in UNITS:
        return word
    singular = word[:-1] if word.endswith("s") and word[:-1] in NAMES else word
    return NAMES[singular]


def _unites_answer(q: str) -> tuple[Fraction, str, str]:
    """(answer, source unit, target unit) from the question's words."""
    compound = re.fullmatch(
        r"Combien d(?:e |')(\w+) y a-t-il dans (\d+) (h|min) (\d+) (min|s) \?", q
    )
    if compound:
        target, big, u1, small, u2 = compound.groups()
        to = _unit(target)
        seconds = int(big) * Fraction(UNITS[u1]) + int(small) * Fraction(UNITS[u2])
        return seconds / UNITS[to], u1, to
    patterns = [
        rf"Convertis {_VALUE} (\w+) en (\w+)\.",
        rf"Combien d(?:e |')(?P<target>\w+) y a-t-il dans {_VALUE} (\w+) \?",
        rf"Exprime {_VALUE} (\w+) en (\w+)\.",
    ]
    for k, pattern in enumerate(patterns):
        match = re.fullmatch(pattern, q)
        if match is None:
            continue
        groups = list(match.groups())
        if k == 1:
            target, whole, dec, source = groups
        else:
            whole, dec, source, target = groups
        value = _fr(whole + ("," + dec if dec else ""))
        if k > 0:  # unit names agree with the value: singular below 2
            assert source.endswith("s") == (value >= 2), q
        src, to = _unit(source), _unit(target)
        return value * Fraction(UNITS[src]) / Fraction(UNITS[to]), src, to
    raise AssertionError(f"unparsed question: {q}")


def test_unites_answers_are_right_and_written_the_french_way() -> None:
    rows = unites.generate(20250721, 200) + unites.generate(99, 600)
    for r in rows:
        answer, source, target = _unites_answer(r["question"])
        assert re.fullmatch(r"\d+(,\d{1,4})?", r["reponse"]), r
        assert not r["reponse"].endswith("0") or "," not in r["reponse"], r
        assert _fr(r["reponse"]) == answer, r
        smaller = Fraction(UNITS[target]) < Fraction(UNITS[source])
        assert r["sens"] == ("vers_petite" if smaller else "vers_grande"), r
        family = next(KIND[u] for u in KIND if {source, target} <= _family(u))
        assert r["grandeur"] == family, r
    assert Counter(r["sens"] for r in rows).keys() == {"vers_petite", "vers_grande"}


def _family(unit: str) -> set[str]:
    groups = [{"km", "m", "cm", "mm"}, {"t", "kg", "g", "mg"}, {"L", "dL", "cL", "mL"},
              {"h", "min", "s"}]  # fmt: skip
    return next(g for g in groups if unit in g)


def test_units_by_hand() -> None:
    assert _unites_answer("Convertis 2,5 km en m.") == (2500, "km", "m")
    kilos = _unites_answer("Combien de kilogrammes y a-t-il dans 750 grammes ?")
    assert kilos == (Fraction(3, 4), "g", "kg")
    assert _unites_answer("Combien de minutes y a-t-il dans 2 h 15 min ?")[0] == 135
    assert _unites_answer("Exprime 0,25 heure en minutes.")[0] == 15
