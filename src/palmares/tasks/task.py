"""A task: its validated spec, where it lives, and its items (loaded lazily, per split)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from palmares.core import (
    DatasetSpec,
    InputError,
    ItemSet,
    TaskSpec,
    ValueKind,
    canonical_json,
    sha256_hex,
)
from palmares.core.protocols import ModelProtocolSpec, MultipleChoiceSpec
from palmares.metrics import Metric, metric_registry
from palmares.tasks._items import build_items
from palmares.tasks._items_hash import items_hash
from palmares.tasks._protocol import check_kinds, parse_protocol, protocol_fields
from palmares.tasks._sources import (
    SourceUnreachable,
    cached_path,
    data_dir_from_env,
    fetch,
    is_url,
    unreachable_hint,
)
from palmares.tasks._yaml import read_yaml, validate_model
from palmares.tasks.loaders import Rows, loader_registry

PROTOCOLS = ("predictions", "multiple_choice", "pairs", "generate", "chat", "rank", "classify")


@dataclass(frozen=True)
class DataSource:
    """Where one split is read from: ``location`` (a path, a URL or an identifier that a remote
    format resolves), its ``format``, and whether it is the local copy under the data folder."""

    location: str
    format: str
    local_copy: bool = False


@dataclass
class Task:
    spec: TaskSpec
    base_dir: Path
    path: Path | None = None
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, repr=False)
    #: the validated keys of a model protocol (None for ``predictions``)
    protocol: ModelProtocolSpec | None = None
    #: the data folder (``PALMARES_DATA_DIR`` / ``--data-dir``): ``dataset.local`` is read there
    data_dir: Path | None = None
    _items: dict[str, ItemSet] = field(default_factory=dict, repr=False)
    _hashes: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def splits(self) -> list[str]:
        return list(self.spec.dataset.split_paths)

    def resolve_split(self, split: str | None) -> str:
        if split is None:
            return self.spec.dataset.default_split
        if split not in self.spec.dataset.split_paths:
            raise InputError(
                f"no split {split!r} in task {self.spec.id!r} (splits: {', '.join(self.splits)})"
            )
        return split

    def source(self, split: str) -> DataSource:
        """Where ``split`` is read from: the local copy when a data folder is given and the task
        names one (``dataset.local``), else the task's own source (file, URL or identifier)."""
        ds = self.spec.dataset
        if self.data_dir is not None and ds.local is not None:
            where = str(self.data_dir / ds.local_paths[split])
            return DataSource(where, ds.local.format or ds.format, local_copy=True)
        return DataSource(self.location(split), ds.format)

    def location(self, split: str) -> str:
        """The task's own source of ``split`` (without the data folder): a path resolved against
        the task's folder, a URL, or the identifier of a remote format."""
        loc = self.spec.dataset.split_paths[split]
        if is_url(loc):
            return loc
        if loader_registry().is_remote(self.spec.dataset.format):
            # ``ID_OR_FOLDER::SPLIT``: a folder next to the task wins over a hub id
            ident, sep, rest = loc.partition("::")
            local = self.base_dir / ident
            return f"{local}{sep}{rest}" if local.exists() else loc
        return str(self.base_dir / loc)

    def data_here(self, split: str) -> bool:
        """Whether ``split`` can be read without the network: a local file or folder (the data
        folder's copy, a file next to the task), or a URL already downloaded into the cache."""
        src = self.source(split)
        remote = loader_registry().is_remote(src.format)
        if is_url(src.location):
            return not remote and cached_path(src.location).is_file()
        if remote:
            return Path(src.location.partition("::")[0]).exists()
        return Path(src.location).exists()

    def items(self, split: str | None = None) -> ItemSet:
        split = self.resolve_split(split)
        if split not in self._items:
            rows = self._rows(split)
            fields = {} if self.protocol is None else protocol_fields(self.protocol, self._name, {})
            try:
                self._items[split] = build_items(rows, self.dataset_spec, fields)
            except InputError as exc:
                if exc.file is not None or exc.field is None:
                    raise
                # a spec key that does not fit the data: point at the key in the task file
                raise exc.located(file=self._name, line=self._line(*exc.field.split("."))) from None
        return self._items[split]

    def _rows(self, split: str) -> Rows:
        src = self.source(split)
        ds = self.spec.dataset
        remote = loader_registry().is_remote(src.format)
        location = src.location
        try:
            if is_url(location) and not remote:
                location = str(fetch(location))
            elif not remote and not Path(location).exists():
                raise self._not_found(src, split)
            return loader_registry().get(src.format)(location, ds)
        except SourceUnreachable as exc:
            if ds.local is None:
                raise
            hint = unreachable_hint(self.spec.id, src.location, ds.local_paths[split])
            raise SourceUnreachable(f"{hint}. Cause: {exc}") from None

    def _not_found(self, src: DataSource, split: str) -> InputError:
        if src.local_copy:
            return InputError(
                f"dataset file not found: {src.location} (split {split!r} of the local copy "
                f"under the data folder {self.data_dir}, from PALMARES_DATA_DIR or --data-dir)",
                file=self._name,
                line=self._line("dataset", "local"),
                field="dataset.local",
            )
        key = "splits" if self.spec.dataset.splits else "path"
        return InputError(
            f"dataset file not found: {src.location}",
            file=self._name,
            line=self._line("dataset", key),
            field=f"dataset.{key}",
        )

    @property
    def dataset_spec(self) -> DatasetSpec:
        """The dataset keys, with a multiple-choice ``answer_field`` as the reference."""
        ds = self.spec.dataset
        if isinstance(self.protocol, MultipleChoiceSpec) and ds.reference_field is None:
            return ds.model_copy(update={"reference_field": self.protocol.answer_field})
        return ds

    def dataset_hash(self, split: str | None = None) -> str:
        """Order-independent content hash of the items of one split."""
        split = self.resolve_split(split)
        if split not in self._hashes:
            self._hashes[split] = items_hash(self.items(split))
        return self._hashes[split]

    @property
    def hash(self) -> str:
        """Hash of the spec's meaning and of every split's items (see ``TaskSpec.spec_hash``)."""
        per_split = {s: self.dataset_hash(s) for s in self.splits}
        return self.spec.spec_hash(sha256_hex(canonical_json(per_split)))

    def public_hash(self, public_splits: Iterable[str | None]) -> str:
        """Hash of the spec's meaning and of the named public splits' items only: what a campaign
        shows the public. Nothing of any other split enters it, not even its inputs or its size,
        so it confirms no guess about hidden items (``hash`` covers them all: staff only)."""
        names = sorted({self.resolve_split(s) for s in public_splits if s is not None})
        per_split = {s: self.dataset_hash(s) for s in names}
        return self.spec.spec_hash(sha256_hex(canonical_json({"public": per_split})))

    def metrics(self) -> list[Metric[Any]]:
        return [metric_registry().create(m.name, m.options) for m in self.spec.metrics]

    @property
    def value_kind(self) -> ValueKind:
        return _value_kind(self.metrics(), self._name)

    def _line(self, *loc: str) -> int | None:
        return self.lines.get(loc)

    @property
    def file(self) -> str | None:
        """The task file, for error messages."""
        return str(self.path) if self.path else None

    @property
    def _name(self) -> str:
        return str(self.path) if self.path else self.spec.id


def load_task(path: str | Path, data_dir: str | Path | None = None) -> Task:
    """Read and validate a task YAML; problems raise :class:`InputError` naming file and line.

    ``data_dir`` (default: ``$PALMARES_DATA_DIR``) is the folder the task's ``dataset.local``
    copy is read from, instead of its public source.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    spec = validate_model(TaskSpec, data, path, lines)
    name = str(path)

    def line_of(*loc: str | int) -> int | None:
        return lines.get(loc)

    formats: list[tuple[tuple[str, ...], str]] = [(("dataset", "format"), spec.dataset.format)]
    if spec.dataset.local is not None and spec.dataset.local.format is not None:
        formats.append((("dataset", "local", "format"), spec.dataset.local.format))
    for loc, fmt in formats:
        if fmt not in loader_registry():
            raise InputError(
                f"unknown format {fmt!r}; known: {', '.join(loader_registry().names())}",
                file=name,
                line=line_of(*loc),
                field=".".join(loc),
            )
    if spec.protocol.type not in PROTOCOLS:
        raise InputError(
            f"unknown protocol {spec.protocol.type!r}; known: {', '.join(PROTOCOLS)}",
            file=name,
            line=line_of("protocol", "type"),
            field="protocol.type",
        )
    protocol = parse_protocol(spec.protocol.model_dump(), path, lines)
    if protocol is not None:
        protocol_fields(protocol, name, lines)  # template syntax errors, with their lines
        fewshot = getattr(protocol, "fewshot", None)
        if fewshot is not None and fewshot.n and fewshot.split not in spec.dataset.split_paths:
            raise InputError(
                f"no split {fewshot.split!r} to draw few-shot examples from "
                f"(splits: {', '.join(spec.dataset.split_paths)})",
                file=name,
                line=line_of("protocol", "fewshot", "split"),
                field="protocol.fewshot.split",
            )
    needs_reference = spec.protocol.type not in ("pairs", "multiple_choice")
    if needs_reference and spec.dataset.reference_field is None:
        raise InputError(
            f"required: protocol {spec.protocol.type!r} compares with a reference; name its field",
            file=name,
            line=line_of("dataset"),
            field="dataset.reference_field",
        )
    metrics = []
    for i, ref in enumerate(spec.metrics):
        try:
            metrics.append(metric_registry().create(ref.name, ref.options))
        except InputError as exc:
            raise InputError(
                exc.problem, file=name, line=line_of("metrics", i), field=f"metrics.{i}"
            ) from None
    labels = [m.label for m in metrics]
    if len(set(labels)) != len(labels):
        raise InputError(
            "a metric is listed twice", file=name, line=line_of("metrics"), field="metrics"
        )
    kind = _value_kind(metrics, name, line_of("metrics"))
    check_kinds(spec.protocol.type, kind, name, line_of("metrics"))
    return Task(
        spec=spec,
        base_dir=path.resolve().parent,
        path=path,
        lines=lines,
        protocol=protocol,
        data_dir=Path(data_dir).expanduser() if data_dir is not None else data_dir_from_env(),
    )


def _value_kind(metrics: list[Metric[Any]], file: str, line: int | None = None) -> ValueKind:
    kinds = {m.kind for m in metrics}
    if len(kinds) > 1:
        detail = ", ".join(f"{m.label} ({m.kind.value})" for m in metrics)
        raise InputError(
            f"metrics compare different kinds of prediction: {detail}; split them into tasks",
            file=file,
            line=line,
            field="metrics",
        )
    return kinds.pop()
