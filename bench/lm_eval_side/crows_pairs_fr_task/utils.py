"""Local French CrowS-Pairs documents for lm-eval's crows_pairs_french (read in place).

The hub dataset behind lm-eval's task (jannalu/crows_pairs_multilingual, config `french`) comes
from BigScience's crows_pairs_multilingual, whose loading script reads the Inria file
crows_pairs_FR_languagearc_contribution+210.csv with ``pandas.read_csv(path, sep="\\t",
index_col=0)``: CSV quoting applies (7 rows are quoted, with doubled inner quotes), an empty cell
becomes None. ``csv.reader`` with a tab delimiter and the default quoting reads the file the same
way (checked field by field against pandas).

One row (position 128, file line 130) has an empty sent_less: lm-eval cannot score an empty
continuation (its tokenisation indexes the first token), so it is left out, as the Palmarès pairs
protocol does.
"""

import csv

import datasets

# lm-eval's own definitions, unchanged
from lm_eval.tasks.crows_pairs.utils import doc_to_choice, process_results  # noqa: F401

FIELDS = ("sent_more", "sent_less", "stereo_antistereo", "bias_type")


def load_crows_pairs_fr(crows_pairs_fr_path=None, **_ignored):
    # lm-eval passes the whole TaskManager metadata as kwargs
    if not crows_pairs_fr_path:
        raise ValueError("metadata key 'crows_pairs_fr_path' (French CrowS-Pairs TSV) is required")
    with open(crows_pairs_fr_path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    header = rows[0]
    if header[1:] != list(FIELDS):
        raise ValueError(f"unexpected header {header}")
    docs = []
    for position, row in enumerate(rows[1:]):
        # id: the row's position from 0, as Palmarès numbers the pairs; the file's own first
        # column skips numbers from row 7 on and ends with LA1…, so it is kept apart as `index`
        doc = {"id": str(position), "index": row[0], **dict(zip(FIELDS, row[1:], strict=True))}
        if not doc["sent_more"] or not doc["sent_less"]:
            continue  # nothing to compare (row 129)
        docs.append(doc)
    # file order is kept: lm-eval's `limit=N` takes the first N pairs
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
