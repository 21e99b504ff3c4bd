"""SQuAD v1.1 JSON (also PIAF, FQuAD): ``data[].paragraphs[].qas[]``, flattened to one row per
question with fields ``id``, ``title``, ``context``, ``question`` and ``answers`` (list of texts).
"""

from __future__ import annotations

from typing import Any

from palmares.core import DatasetSpec, InputError
from palmares.tasks.loaders._base import Rows, read_json_document


def load(location: str, spec: DatasetSpec) -> Rows:
    doc = read_json_document(location)
    cols: dict[str, list[Any]] = {k: [] for k in ("id", "title", "context", "question", "answers")}
    try:
        for article in doc["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    cols["id"].append(str(qa["id"]))
                    cols["title"].append(article.get("title", ""))
                    cols["context"].append(paragraph["context"])
                    cols["question"].append(qa["question"])
                    cols["answers"].append([a["text"] for a in qa.get("answers", [])])
    except (KeyError, TypeError) as exc:
        raise InputError(f"not SQuAD v1.1 JSON: missing {exc}", file=location) from None
    return Rows(cols, len(cols["id"]), location)
