"""Builds the ARC-fr documents for lm-eval from the okapi json file (read in place)."""

import json

import datasets

LETTERS = "abcde"  # a few items have option_e


def load_arc_fr(arc_fr_path=None, **_ignored):
    # lm-eval passes the whole TaskManager metadata (model args too) as kwargs
    if not arc_fr_path:
        raise ValueError("metadata key 'arc_fr_path' (path of m_arc_fr_test.json) is required")
    with open(arc_fr_path, encoding="utf-8") as f:
        items = json.load(f)
    docs = []
    for item in items:
        options = [(c, item.get(f"option_{c}")) for c in LETTERS]
        # drop absent/empty options; the answer letter is mapped to its index among the kept ones.
        # Texts are NOT stripped (item 36 has an option with a trailing space): the Palmarès side
        # must use them verbatim too.
        kept = [(c, text) for c, text in options if text]
        letters = [c for c, _ in kept]
        answer = item["answer"].strip().lower()
        if answer not in letters:
            continue  # answer points at an empty option: unusable item
        docs.append(
            {
                "id": item["id"],
                "question": item["instruction"],
                "choices": [text for _, text in kept],
                "gold": letters.index(answer),
            }
        )
    # file order is kept, so lm-eval's `limit=N` takes the first N items
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def doc_to_text(doc):
    return f"Question : {doc['question']}\nRéponse :"
