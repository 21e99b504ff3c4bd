"""A lexicon baseline for the avis-fr example: counts positive and negative cue words.

Writes ``baseline.jsonl`` beside this file: ``python baseline.py``.
"""

import json
import re
from pathlib import Path

POSITIVE = {
    "superbe",
    "bouleversants",
    "charme",
    "magnifique",
    "belle",
    "plaisir",
    "excellente",
    "passionnant",
    "chaleureux",
    "savoureux",
    "meilleur",
    "cœur",
    "parfaite",
    "délicieux",
    "captivant",
    "poétique",
    "splendides",
    "aimé",
    "bonheur",
    "agréable",
    "drôle",
}
NEGATIVE = {
    "ennui",
    "ridicules",
    "lent",
    "décevant",
    "inutile",
    "gâche",
    "pas",
    "trop",
    "désagréable",
    "froides",
    "cher",
    "attente",
    "déconseille",
    "déçus",
    "lourd",
    "bâclée",
    "surestimé",
    "ennuyeux",
    "mauvaise",
    "aucun",
    "rien",
    "ni",
}


def predict(text: str) -> str:
    words = re.findall(r"\w+", text.lower())
    score = sum(w in POSITIVE for w in words) - sum(w in NEGATIVE for w in words)
    return "positif" if score >= 0 else "négatif"


if __name__ == "__main__":
    here = Path(__file__).parent
    with (
        (here / "avis.jsonl").open(encoding="utf-8") as src,
        (here / "baseline.jsonl").open("w", encoding="utf-8") as out,
    ):
        for line in src:
            item = json.loads(line)
            pred = {"id": item["id"], "prediction": predict(item["texte"])}
            out.write(json.dumps(pred, ensure_ascii=False) + "\n")
