"""Multiple-choice data with integer answers: the ``rte3-fr``, ``allocine`` and ``okapi``
dataset formats.

``okapi`` reads Okapi's ARC and MMLU files (a JSON array) with the answer letter as the index
of its option (A = 0), see :func:`load_okapi`.

Classification by prompt (``rte3-fr``, ``allocine``):

Like lm-evaluation-harness's RTE, ANLI or SST-2, these tasks score each *label word* as a
continuation of a prompt (``multiple_choice``): the most likely word is the predicted class. The
protocol takes its choices from a field, so these formats read the files as they are (TSV,
CSV) and add a ``choix`` field holding the label words, in the order of the dataset's label
indices:

==============  ==========================  ===========================================
format          file                        ``choix`` (label 0, 1, …)
==============  ==========================  ===========================================
``rte3-fr``     RTE3-FR TSV (``label``)     Vrai (entailment), Indéterminé (neutral),
                                            Faux (contradiction)
``allocine``    Allociné CSV (``label``)    négative (0), positive (1)
==============  ==========================  ===========================================
"""

from __future__ import annotations

from palmares.core import DatasetSpec, InputError
from palmares.tasks import Loader, Rows, loader_registry

#: format → (file format read, label words by label index)
LABEL_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rte3-fr": ("tsv", ("Vrai", "Indéterminé", "Faux")),
    "allocine": ("csv", ("négative", "positive")),
}


def loader(fmt: str) -> Loader:
    base, words = LABEL_WORDS[fmt]

    def load(location: str, spec: DatasetSpec) -> Rows:
        rows = loader_registry().get(base)(location, spec)
        if "label" not in rows.columns:
            raise InputError(f"no column 'label' (format {fmt})", file=rows.source)
        labels = []
        for i, value in enumerate(rows.columns["label"]):
            text = str(value).strip()
            if not text.isdigit() or int(text) >= len(words):
                raise InputError(
                    f"label {value!r}: expected 0 to {len(words) - 1} ({', '.join(words)})",
                    field="label",
                    **rows.where(i),
                )
            labels.append(int(text))
        columns = {**rows.columns, "label": labels, "choix": [list(words) for _ in labels]}
        return Rows(columns, rows.n, rows.source, rows.lines)

    return load


def load_okapi(location: str, spec: DatasetSpec) -> Rows:
    """Okapi's ARC / MMLU JSON (an array of ``{id, instruction, option_a…, answer}``), with the
    answer letter read as the index of its option (A = 0): a letter could also be an option's
    text (an ARC option reads « C »), and a predictions file gives the chosen index."""
    rows = loader_registry().get("json")(location, spec)
    answers = []
    for i, value in enumerate(rows.columns.get("answer", [None] * rows.n)):
        letter = str(value).strip().upper()
        if len(letter) != 1 or not "A" <= letter <= "Z":
            raise InputError(
                f"answer {value!r}: expected a letter", field="answer", **rows.where(i)
            )
        answers.append(ord(letter) - ord("A"))
    return Rows({**rows.columns, "answer": answers}, rows.n, rows.source, rows.lines)
