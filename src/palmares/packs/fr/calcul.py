"""``calcul-fr``: arithmetic word problems in French with exact integer answers.

Ten templates (the ``modele`` slice), each with its own ranges, so that every answer is a whole
number reached by one to three operations: ``achats`` (two purchases), ``monnaie`` (change
after two purchases), ``partage`` (keep some, share the rest), ``ages`` (sum of two ages in a
few years), ``vitesses`` (distance, speed or minutes of a journey), ``pourcentages`` (a price
after a rise or a discount), ``boites`` (how many containers: a division rounded up),
``epargne`` (savings after some weeks), ``recette`` (scaling a recipe) and ``geometrie``
(perimeter and area of rectangles, area of a square from its perimeter).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from palmares.packs.fr._generation import Probleme, generer, nombre_fr
from palmares.packs.fr._tirage import Tirage

NAME = "calcul-fr"
#: bump when a template changes: the same seed then gives other items
VERSION = 1

#: first names with their subject and tonic pronouns
PRENOMS = (
    ("Léa", "elle", "elle"),
    ("Hugo", "il", "lui"),
    ("Chloé", "elle", "elle"),
    ("Louis", "il", "lui"),
    ("Inès", "elle", "elle"),
    ("Nathan", "il", "lui"),
    ("Camille", "elle", "elle"),
    ("Jules", "il", "lui"),
    ("Manon", "elle", "elle"),
    ("Gabriel", "il", "lui"),
    ("Sarah", "elle", "elle"),
    ("Arthur", "il", "lui"),
    ("Zoé", "elle", "elle"),
    ("Adam", "il", "lui"),
    ("Jade", "elle", "elle"),
    ("Lucas", "il", "lui"),
    ("Emma", "elle", "elle"),
    ("Noah", "il", "lui"),
    ("Alice", "elle", "elle"),
    ("Léon", "il", "lui"),
)
OBJETS = (
    "cahiers",
    "stylos",
    "croissants",
    "baguettes",
    "cartes postales",
    "bougies",
    "classeurs",
    "pots de confiture",
    "tickets de bus",
    "bouteilles d'eau",
)


def achats(t: Tirage) -> Probleme:
    nom, il, _ = t.choix(PRENOMS)
    o1, o2 = t.deux(OBJETS)
    a, x = t.entier(2, 9), t.entier(2, 15)
    b, y = t.entier(2, 6), t.entier(1, 9)
    return Probleme(
        f"{nom} achète {a} {o1} à {x} € l'unité et {b} {o2} à {y} € l'unité. "
        f"Combien dépense-t-{il} en tout, en euros ?",
        str(a * x + b * y),
        f"{a} × {x} + {b} × {y} = {a * x + b * y}",
        {"modele": "achats"},
    )


def monnaie(t: Tirage) -> Probleme:
    nom, il, _ = t.choix(PRENOMS)
    billet = t.choix((20, 50, 100))
    livre = t.entier(3, billet // 2)
    sac = t.entier(2, billet - livre - 1)
    rendu = billet - livre - sac
    return Probleme(
        f"{nom} achète un livre à {livre} € et un sac à {sac} €. {il.capitalize()} paie avec "
        f"un billet de {billet} €. Combien d'euros doit-on lui rendre ?",
        str(rendu),
        f"{billet} − ({livre} + {sac}) = {rendu}",
        {"modele": "monnaie"},
    )


def partage(t: Tirage) -> Probleme:
    nom, il, _ = t.choix(PRENOMS)
    objets = t.choix(("billes", "bonbons", "images", "crayons", "cartes", "noisettes"))
    amis, chacun, garde = t.entier(2, 9), t.entier(3, 25), t.entier(1, 12)
    total = amis * chacun + garde
    return Probleme(
        f"{nom} a {total} {objets}. {il.capitalize()} en garde {garde} et partage le reste "
        f"équitablement entre {amis} amis. Combien chaque ami en reçoit-il ?",
        str(chacun),
        f"({total} − {garde}) ÷ {amis} = {chacun}",
        {"modele": "partage"},
    )


def ages(t: Tirage) -> Probleme:
    nom, _, lui = t.choix(PRENOMS)
    age, ecart, dans = t.entier(5, 15), t.entier(22, 40), t.entier(2, 10)
    somme = (age + dans) + (age + ecart + dans)
    return Probleme(
        f"{nom} a {age} ans. Sa mère a {ecart} ans de plus que {lui}. "
        f"Dans {dans} ans, quelle sera la somme de leurs deux âges ?",
        str(somme),
        f"({age} + {dans}) + ({age} + {ecart} + {dans}) = {somme}",
        {"modele": "ages"},
    )


def vitesses(t: Tirage) -> Probleme:
    forme = t.entier(0, 2)
    if forme == 0:
        v, h = 10 * t.entier(4, 30), t.entier(2, 6)
        question = (
            f"Un train roule à {v} km/h de moyenne pendant {h} heures. "
            "Quelle distance parcourt-il, en kilomètres ?"
        )
        return Probleme(question, str(v * h), f"{v} × {h} = {v * h}", {"modele": "vitesses"})
    if forme == 1:
        v, h = t.entier(12, 30), t.entier(2, 5)
        question = (
            f"Un cycliste parcourt {v * h} km en {h} heures. "
            "Quelle est sa vitesse moyenne, en km/h ?"
        )
        return Probleme(question, str(v), f"{v * h} ÷ {h} = {v}", {"modele": "vitesses"})
    vehicule, v = t.choix(
        (("Un scooter", 30), ("Une voiture", 90), ("Une voiture", 120), ("Un train", 150))
    )
    minutes = 10 * t.entier(1, 8)
    km = v * minutes // 60  # exact: minutes is even, v a multiple of 30
    question = (
        f"{vehicule} roule à {v} km/h. Combien de minutes lui faut-il pour parcourir {km} km ?"
    )
    return Probleme(question, str(minutes), f"{km} ÷ {v} × 60 = {minutes}", {"modele": "vitesses"})


def pourcentages(t: Tirage) -> Probleme:
    prix, taux = 20 * t.entier(1, 15), t.choix((10, 20, 25, 30, 40, 50))
    variation = prix * taux // 100  # exact: prix is a multiple of 20, taux of 5
    if t.entier(0, 1) == 0:
        question = (
            f"Un article coûte {prix} €. Pendant les soldes, son prix baisse de {taux} %. "
            "Quel est son nouveau prix, en euros ?"
        )
        return Probleme(
            question,
            str(prix - variation),
            f"{prix} − {prix} × {taux} / 100 = {prix - variation}",
            {"modele": "pourcentages"},
        )
    question = (
        f"Un abonnement coûte {prix} € par an. Son prix augmente de {taux} %. "
        "Quel est son nouveau prix, en euros ?"
    )
    return Probleme(
        question,
        str(prix + variation),
        f"{prix} + {prix} × {taux} / 100 = {prix + variation}",
        {"modele": "pourcentages"},
    )


def boites(t: Tirage) -> Probleme:
    forme = t.entier(0, 2)
    taille = t.choix(((6, 10, 12), (8, 9), (8, 15, 20))[forme])
    pleines, reste = t.entier(2, 15), t.entier(1, taille - 1)
    total = pleines * taille + reste
    question = (
        f"Il faut ranger {total} œufs dans des boîtes de {taille}. "
        "Combien de boîtes faut-il au minimum ?",
        f"Pour une sortie, {total} élèves voyagent en minibus de {taille} places. "
        "Combien de minibus faut-il au minimum ?",
        f"Une bibliothèque range {total} livres dans des cartons de {taille} livres. "
        "Combien de cartons faut-il au minimum ?",
    )[forme]
    return Probleme(
        question,
        str(pleines + 1),
        f"{total} = {pleines} × {taille} + {reste}, donc {pleines} + 1 = {pleines + 1}",
        {"modele": "boites"},
    )


def epargne(t: Tirage) -> Probleme:
    nom, il, _ = t.choix(PRENOMS)
    deja, par_semaine, semaines = t.entier(5, 95), t.entier(3, 25), t.entier(3, 12)
    total = deja + par_semaine * semaines
    return Probleme(
        f"{nom} a déjà {deja} € d'économies. Chaque semaine, {il} met {par_semaine} € de côté. "
        f"Combien aura-t-{il} au bout de {semaines} semaines ?",
        str(total),
        f"{deja} + {par_semaine} × {semaines} = {total}",
        {"modele": "epargne"},
    )


def recette(t: Tirage) -> Probleme:
    ingredient, symbole, unite = t.choix(
        (
            ("farine", "g", "grammes"),
            ("sucre", "g", "grammes"),
            ("beurre", "g", "grammes"),
            ("lait", "mL", "millilitres"),
        )
    )
    par_personne = t.choix((15, 20, 25, 30, 40, 50, 60, 75, 80, 100))
    avant, apres = t.deux(range(2, 13))
    return Probleme(
        f"Pour {avant} personnes, une recette demande {avant * par_personne} {symbole} de "
        f"{ingredient}. Combien de {unite} de {ingredient} faut-il pour {apres} personnes ?",
        str(par_personne * apres),
        f"{avant * par_personne} ÷ {avant} × {apres} = {par_personne * apres}",
        {"modele": "recette"},
    )


def geometrie(t: Tirage) -> Probleme:
    forme = t.entier(0, 2)
    if forme == 2:
        cote = t.entier(3, 25)
        return Probleme(
            f"Un carré a un périmètre de {4 * cote} cm. Quelle est son aire, "
            "en centimètres carrés ?",
            str(cote * cote),
            f"{4 * cote} ÷ 4 = {cote} ; {cote} × {cote} = {cote * cote}",
            {"modele": "geometrie"},
        )
    longueur = t.entier(6, 30)
    largeur = t.entier(3, longueur - 1)
    if forme == 0:
        return Probleme(
            f"Un jardin rectangulaire mesure {longueur} m de long et {largeur} m de large. "
            "Quel est son périmètre, en mètres ?",
            str(2 * (longueur + largeur)),
            f"2 × ({longueur} + {largeur}) = {2 * (longueur + largeur)}",
            {"modele": "geometrie"},
        )
    return Probleme(
        f"Une pièce rectangulaire mesure {longueur} m sur {largeur} m. "
        "Quelle est son aire, en mètres carrés ?",
        nombre_fr(longueur * largeur),
        f"{longueur} × {largeur} = {longueur * largeur}",
        {"modele": "geometrie"},
    )


MODELES = (
    achats,
    monnaie,
    partage,
    ages,
    vitesses,
    pourcentages,
    boites,
    epargne,
    recette,
    geometrie,
)


def generate(seed: int, n: int, exclude: Collection[str] = ()) -> list[dict[str, Any]]:
    """``n`` problems from ``seed`` (fields ``id, question, reponse, modele, explication``),
    none of whose questions is in ``exclude``."""
    return generer(NAME, VERSION, MODELES, seed, n, exclude)
