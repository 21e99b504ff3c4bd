"""The ``sacrebleu`` dataset format: a WMT test set as sacrebleu downloads and checks it.

A location is ``TEST_SET::PAIR``, e.g. ``wmt14/full::en-fr``. sacrebleu downloads the official
release from its original URL (``https://statmt.org/wmt14/test-full.tgz`` for ``wmt14/full``),
checks its MD5 sum, and extracts the segments and their document metadata into
``$SACREBLEU`` (``~/.sacrebleu`` by default). Each segment becomes one row::

    {"id": 0, "docid": "1009-lemondefr", "segid": 1, "origlang": "fr",
     "en": "Spectacular Wingsuit Jump Over Bogota", "fr": "Spectaculaire saut en …"}

``id`` counts segments from 0, ``segid`` counts them from 1 within their document, and the two
texts are named by their language (source first in ``PAIR``, then the reference); the layout of
``shared/data/wmt14_en_fr/newstest2014_en-fr.jsonl``, the same release converted once, which a
task reads instead under a data folder. sacrebleu collapses whitespace in the texts (a no-break
space becomes a space), which that copy keeps: the same segments, another dataset hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from palmares.core import DatasetSpec, InputError
from palmares.tasks import Rows, SourceUnreachable

NAME = "sacrebleu"


def load(location: str, spec: DatasetSpec) -> Rows:
    test_set, sep, pair = location.partition("::")
    if not sep or pair.count("-") != 1:
        raise InputError(
            "a sacrebleu location is TEST_SET::PAIR, e.g. wmt14/full::en-fr", file=location
        )
    from sacrebleu.dataset import DATASETS

    dataset = DATASETS.get(test_set)
    if dataset is None or pair not in dataset.langpairs:
        raise InputError(f"sacrebleu has no test set {test_set!r} for {pair!r}", file=location)
    try:
        fields = dataset.fieldnames(pair)
        # downloads, checks (MD5) and extracts on first use
        files: list[str] = dataset.get_files(pair)  # type: ignore[no-untyped-call]
    except SystemExit:  # sacrebleu exits on a bad checksum or an SSL failure
        raise InputError(
            "sacrebleu could not download or check this test set (see its log above)",
            file=location,
        ) from None
    except OSError as exc:  # no network, DNS failure, timeout
        raise SourceUnreachable(f"cannot download ({exc})", file=location) from None
    return rows(dict(zip(fields, (_lines(f) for f in files), strict=True)), pair, location)


def _lines(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


def rows(fields: dict[str, list[str]], pair: str, source: str) -> Rows:
    """Rows from sacrebleu's fields (``src``, ``ref``, ``docid``, ``origlang``…)."""
    src_lang, ref_lang = pair.split("-")
    ref = fields.get("ref", fields.get("ref:0"))
    if ref is None or "src" not in fields:
        raise InputError("the test set has no source or no reference", file=source)
    n = len(fields["src"])
    docids = fields.get("docid", [""] * n)
    segids: list[int] = []
    for i, doc in enumerate(docids):
        segids.append(segids[-1] + 1 if i and docids[i - 1] == doc else 1)
    columns: dict[str, list[Any]] = {
        "id": list(range(n)),
        "docid": docids,
        "segid": segids,
        "origlang": fields.get("origlang", [""] * n),
        src_lang: fields["src"],
        ref_lang: ref,
    }
    if any(len(v) != n for v in columns.values()):
        raise InputError("sacrebleu's files disagree on the number of segments", file=source)
    return Rows(columns, n, source)
