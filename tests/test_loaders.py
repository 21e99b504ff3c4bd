"""Every dataset format, on real or generated local files (no network: HF_HUB_OFFLINE)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from palmares import Scorer, load_task

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

ROWS = [
    {"id": f"q{i}", "question": f"Question {i} ?", "answer": "oui" if i % 3 else "non",
     "theme": "a" if i < 5 else "b"}
    for i in range(12)
]  # fmt: skip


def _task(folder: Path, dataset: str) -> Path:
    path = folder / "task.yaml"
    path.write_text(
        f"""
id: formats
version: 1
title: Formats
language: fr
license: CC0-1.0
dataset: {dataset}
metrics: [accuracy]
""",
        encoding="utf-8",
    )
    return path


def _expected_hash(tmp_path: Path) -> str:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "d.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8"
    )
    spec = "{path: d.jsonl, format: jsonl, id_field: id, input_fields: [question], " \
        "reference_field: answer, slice_fields: [theme]}"  # fmt: skip
    return load_task(_task(tmp_path / "ref", spec)).dataset_hash()


def test_json_and_parquet_give_the_same_items_as_jsonl(tmp_path: Path) -> None:
    expected = _expected_hash(tmp_path)
    (tmp_path / "d.json").write_text(json.dumps(ROWS), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "d.parquet")
    for fmt in ("json", "parquet"):
        spec = f"{{path: d.{fmt}, format: {fmt}, id_field: id, input_fields: [question], " \
            "reference_field: answer, slice_fields: [theme]}"  # fmt: skip
        task = load_task(_task(tmp_path, spec))
        assert len(task.items()) == 12
        assert task.dataset_hash() == expected, fmt


def test_hf_format_loads_a_saved_dataset_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch)\
        -> None:  # fmt: skip
    """The real `datasets` code path, on a local folder (as offline deployments use it)."""
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    expected = _expected_hash(tmp_path)
    datasets.DatasetDict({"test": datasets.Dataset.from_list(ROWS)}).save_to_disk(
        str(tmp_path / "saved")
    )
    spec = "{splits: {test: 'saved::test'}, format: hf, id_field: id, " \
        "input_fields: [question], reference_field: answer, slice_fields: [theme]}"  # fmt: skip
    task = load_task(_task(tmp_path, spec))
    assert task.dataset_hash() == expected


def test_hf_format_loads_data_files_through_load_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    expected = _expected_hash(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    spec = "{splits: {test: 'repo::test'}, format: hf, id_field: id, " \
        "input_fields: [question], reference_field: answer, slice_fields: [theme]}"  # fmt: skip
    assert load_task(_task(tmp_path, spec)).dataset_hash() == expected


def test_json_format_on_arc_fr_scores_letter_answers(tmp_path: Path) -> None:
    """ARC-fr (okapi, CC BY-NC: read in place for tests) as a JSON array: always answering 'A'."""
    spec = f"{{path: {DATA}/okapi_fr/m_arc_fr_test.json, format: json, id_field: id, " \
        "input_fields: [instruction, option_a, option_b, option_c, option_d], " \
        "reference_field: answer}"  # fmt: skip
    task = load_task(_task(tmp_path, spec))
    items = task.items()
    assert len(items) == 1169
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": i, "prediction": "A"}) + "\n" for i in items.ids))
    acc = Scorer(task).score_file(str(preds)).table.scores["accuracy"]
    expected = sum(r == "A" for r in items.references) / len(items)
    assert acc.value == pytest.approx(expected)
    assert acc.ci is not None and acc.ci[0] < expected < acc.ci[1]


def test_hf_without_datasets_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from palmares.core import InputError
    from palmares.tasks.loaders import hf

    real_import = builtins.__import__

    def no_datasets(name: str, *args: object, **kwargs: object) -> object:
        if name == "datasets":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    with pytest.raises(InputError, match=r'pip install "palmares\[hf\]"'):
        hf._datasets()
