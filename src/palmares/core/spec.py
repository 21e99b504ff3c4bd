"""The task specification: the contract organisers write in YAML.

Only the shape is checked here (types, required keys, names that must be identifiers). Whether the
dataset file exists, the format has a loader or a metric is registered is checked by
``palmares.tasks``, which knows about files and registries.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from palmares.core.hashing import canonical_json, sha256_hex

_SLUG = r"^[a-z0-9][a-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def usable_path(value: Any) -> Any:
    """A file path the operating system can take: no NUL byte, no part over 255 bytes.

    Either would make ``Path.resolve()`` or ``Path.exists()`` raise (ValueError, OSError
    ENAMETOOLONG) far from the spec, instead of a message naming the key. URLs are left alone.
    """
    if isinstance(value, dict):
        return {k: usable_path(v) for k, v in value.items()}
    if (
        isinstance(value, str)
        and "://" not in value
        and ("\x00" in value or any(len(part.encode()) > 255 for part in value.split("/")))
    ):
        raise ValueError("not a usable file path (a NUL byte, or a name over 255 bytes)")
    return value


class LocalSpec(_Strict):
    """Where a local copy of a dataset lies, under a data folder given at run time.

    The task's ``path`` / ``splits`` name the public source (a URL, a Hugging Face id); when a
    data folder is given (``PALMARES_DATA_DIR`` or ``--data-dir``), each split is read from
    ``DATA_DIR / local path`` instead, with ``format`` (default: the dataset's). The local copy
    must have the same fields; the dataset hash says whether it holds the same items.
    """

    path: str | None = None
    splits: dict[str, str] | None = None
    format: str | None = None

    _paths = field_validator("path", "splits")(usable_path)

    @model_validator(mode="after")
    def _one_location(self) -> LocalSpec:
        if (self.path is None) == (self.splits is None):
            raise ValueError("give exactly one of 'path' or 'splits'")
        return self


class DatasetSpec(_Strict):
    """Where the items are and which fields play which role.

    Either ``path`` (one file; its split is named by ``split``, ``test`` by default) or ``splits``
    (split name → path). Paths are relative to the task YAML, or URLs (downloaded once into a
    cache); with ``format: hf`` they are Hugging Face dataset ids (or local dataset folders) and
    ``splits`` maps our split names to the dataset's own. ``local`` (optional) names a local copy
    under a data folder given at run time, read instead of the source (see :class:`LocalSpec`).
    """

    path: str | None = None
    splits: dict[str, str] | None = None
    split: str = "test"
    format: str
    name: str | None = Field(default=None, description="configuration name (hf format only)")
    id_field: str | None = None
    input_fields: list[str] = Field(default_factory=list)
    reference_field: str | None = None
    slice_fields: list[str] = Field(default_factory=list)
    group_field: str | None = None
    local: LocalSpec | None = None

    _paths = field_validator("path", "splits")(usable_path)

    @model_validator(mode="after")
    def _one_location(self) -> DatasetSpec:
        if (self.path is None) == (self.splits is None):
            raise ValueError("give exactly one of 'path' or 'splits'")
        if self.splits is not None and not self.splits:
            raise ValueError("'splits' is empty")
        if self.local is not None and set(self.local_paths) != set(self.split_paths):
            raise ValueError(
                f"'local' names splits {sorted(self.local_paths)}, the dataset "
                f"{sorted(self.split_paths)}: give a local path for each split"
            )
        return self

    @property
    def split_paths(self) -> dict[str, str]:
        if self.splits is not None:
            return dict(self.splits)
        assert self.path is not None
        return {self.split: self.path}

    @property
    def local_paths(self) -> dict[str, str]:
        """Split → path under the data folder (empty without ``local``)."""
        if self.local is None:
            return {}
        if self.local.splits is not None:
            return dict(self.local.splits)
        assert self.local.path is not None
        return {self.split: self.local.path}

    @property
    def default_split(self) -> str:
        names = list(self.split_paths)
        return "test" if "test" in names else names[-1]


class ProtocolSpec(BaseModel):
    """How a system is queried. ``predictions``: the system hands in a file of predictions.

    Other protocols (``multiple_choice``, ``generate``, ``chat``, ``pairs``, ``rank``) carry their
    own keys, which their runners validate; they are kept here as given.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = "predictions"


class MetricRef(_Strict):
    """A metric as named in a task: ``name`` from the registry and its options (``k`` for @k)."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        """How the metric's score is named in results: ``ndcg@10``, ``accuracy``."""
        if set(self.options) == {"k"}:
            return f"{self.name}@{self.options['k']}"
        if self.options:
            opts = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
            return f"{self.name}[{opts}]"
        return self.name


class StatisticsSpec(_Strict):
    """How uncertainty is computed. Defaults: 95 % intervals, 1,000 bootstrap resamples, seed 0."""

    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    bootstrap: int = Field(default=1000, ge=100, le=100_000)
    seed: int = 0


class TaskSpec(_Strict):
    id: str = Field(pattern=_SLUG, max_length=100)
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")
    license: str = Field(min_length=1)
    description: str = ""
    dataset: DatasetSpec
    protocol: ProtocolSpec = ProtocolSpec()
    metrics: list[MetricRef] = Field(min_length=1)
    statistics: StatisticsSpec = StatisticsSpec()

    @field_validator("metrics", mode="before")
    @classmethod
    def _parse_metric_names(cls, value: Any) -> Any:
        """Accept ``ndcg@10`` and ``{name: ndcg, k: 10}`` as well as ``{name:, options:}``."""
        if not isinstance(value, list):
            return value
        return [_metric_ref(v) for v in value]

    @property
    def primary_metric(self) -> str:
        return self.metrics[0].label

    def spec_hash(self, dataset_hash: str) -> str:
        """Hash of what the task *means*: the spec without file locations, plus the data's hash.

        Moving a task folder or converting its dataset file keeps the hash; changing a field role,
        a metric or an item changes it.
        """
        body = self.model_dump(mode="json")
        body["dataset"].pop("path", None)
        body["dataset"].pop("format", None)  # the items' hash already covers the content
        body["dataset"].pop("local", None)  # another location of the same items
        splits = body["dataset"].pop("splits", None)
        body["dataset"]["split_names"] = sorted(splits) if splits else [self.dataset.split]
        return sha256_hex(canonical_json({"spec": body, "dataset_hash": dataset_hash}))


def _metric_ref(value: Any) -> Any:
    if isinstance(value, str):
        name, sep, k = value.partition("@")
        if sep:
            if not k.isdigit() or int(k) < 1:
                raise ValueError(f"metric {value!r}: the part after '@' must be a positive integer")
            return {"name": name, "options": {"k": int(k)}}
        return {"name": name}
    if isinstance(value, dict) and "name" in value and "options" not in value:
        name = value["name"]
        return {"name": name, "options": {k: v for k, v in value.items() if k != "name"}}
    return value
