"""Registers the built-in dataset formats (entry point ``palmares.loaders: builtins``)."""

from __future__ import annotations

from palmares.tasks.loaders import LoaderRegistry, delimited, hf, json, jsonl, parquet, squad


def register(registry: LoaderRegistry) -> None:
    registry.add("jsonl", jsonl.load)
    registry.add("json", json.load)
    registry.add("csv", delimited.load_csv)
    registry.add("tsv", delimited.load_tsv)
    registry.add("parquet", parquet.load)
    registry.add("hf", hf.load, remote=True)
    registry.add("squad", squad.load)
