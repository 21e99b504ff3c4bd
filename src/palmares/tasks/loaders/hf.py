"""Hugging Face ``datasets``: a hub id (``org/name``) or a local dataset folder.

The hub is the real default source of public benchmarks; offline deployments point the same task
at a local copy (a folder of data files, or one saved with ``save_to_disk``), which goes through
the same ``datasets`` code path. ``datasets`` is an optional extra, imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from palmares.core import DatasetSpec, InputError
from palmares.tasks._sources import SourceUnreachable
from palmares.tasks.loaders._base import Rows


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise InputError(
            "format 'hf' needs the Hugging Face datasets library: pip install \"palmares[hf]\"",
            field="dataset.format",
        ) from None
    return datasets


def load(location: str, spec: DatasetSpec) -> Rows:
    """``location`` is ``ID_OR_FOLDER`` or ``ID_OR_FOLDER::SPLIT`` (the dataset's split name)."""
    ds_lib = _datasets()
    ident, _, hf_split = location.partition("::")
    hf_split = hf_split or "test"
    try:
        if (Path(ident) / "dataset_info.json").exists() or (Path(ident) / "state.json").exists():
            ds = ds_lib.load_from_disk(ident)
            ds = ds[hf_split] if hasattr(ds, "keys") else ds
        else:
            ds = ds_lib.load_dataset(ident, spec.name, split=hf_split)
    except ConnectionError as exc:  # offline mode (HF_HUB_OFFLINE), no network, hub down
        raise SourceUnreachable(f"cannot load dataset: {exc}", file=location) from None
    except Exception as exc:  # datasets raises many types; all mean "cannot load"
        raise InputError(f"cannot load dataset: {exc}", file=location) from None
    columns = {name: list(ds[name]) for name in ds.column_names}
    return Rows(columns, ds.num_rows, location)
