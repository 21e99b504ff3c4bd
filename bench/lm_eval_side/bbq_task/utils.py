"""Local BBQ documents for lm-eval's bbq task (read in place from <Category>.jsonl files).

The hub dataset behind lm-eval's task (oskarvanderwal/bbq, config `All`) holds the records of the
nyu-mll/BBQ data files, field for field; here the same records are read from the JSON Lines files
of a local folder, in sorted file-name order (the order Palmarès's `bbq` format reads them), each
file in its own order. Everything else (process_docs, choices, targets, metrics) is lm-eval's own
code, imported unchanged from lm_eval/tasks/bbq/utils.py.
"""

import json
from pathlib import Path

import datasets

# lm-eval's own definitions, unchanged (named by bbq_local.yaml)
from lm_eval.tasks.bbq.utils import (  # noqa: F401
    UNKNOWN_RESPONSES,
    agg_accuracy_amb,
    agg_accuracy_disamb,
    agg_amb_bias_scores,
    agg_disamb_bias_scores,
    doc_to_biased_answer,
    doc_to_choice,
    doc_to_target,
    doc_to_targets,
    process_docs,
    process_results_multiple_choice,
)


def load_bbq(bbq_dir=None, **_ignored):
    # lm-eval passes the whole TaskManager metadata as kwargs
    if not bbq_dir:
        raise ValueError("metadata key 'bbq_dir' (folder of BBQ <Category>.jsonl) is required")
    files = sorted(Path(bbq_dir).glob("*.jsonl"))
    if not files:
        raise ValueError(f"no .jsonl file in {bbq_dir}")
    docs = []
    for path in files:
        with path.open(encoding="utf-8") as f:
            docs.extend(json.loads(line) for line in f if line.strip())
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
