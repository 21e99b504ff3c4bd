"""Task and campaign YAML, fuzzed.

* Any bytes as a task or campaign file: :func:`load_task` / :func:`load_campaign_spec` return a
  spec or raise :class:`InputError` naming the file (and a line inside it, when one is given).
* Valid documents drawn from strategies, written with ``yaml.safe_dump`` and read back, give the
  spec validated from the document itself (nothing lost or changed by the YAML layer).
* A valid document with one key damaged (a random value, a removed key, an unknown key) is
  refused with an InputError, never another exception.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from palmares.campaigns import CampaignSpec
from palmares.campaigns.service import load_campaign_spec
from palmares.core import InputError, TaskSpec
from palmares.tasks import load_task

# NEL and the Unicode line separators are line breaks to YAML: PyYAML's dumper writes them in a
# way its loader reads back as other text (a quirk of the writer, not of the reader tested here)
chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x85\u2028\u2029")
texts = st.text(chars, max_size=10)
slugs = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}", fullmatch=True)
names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
yaml_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
# YAML-ish text: random lines built from the characters YAML gives meaning to
_TOKENS = [*"ab:-[]{},&*!|>#'\"%@` \t?<=", "!!python/object", "\\x00", "2027-02-30", "1e999"]
yamlish = st.lists(st.lists(st.sampled_from(_TOKENS), max_size=12).map("".join), max_size=8).map(
    "\n".join
)


def _check_error(exc: InputError, path: Path, raw: bytes) -> None:
    assert exc.file == str(path), exc
    if exc.line is not None:
        assert 1 <= exc.line <= raw.count(b"\n") + 1, exc


# --- task YAML ----------------------------------------------------------------------------------


@st.composite
def task_docs(draw: st.DrawFn) -> dict[str, Any]:
    dataset: dict[str, Any] = {"format": draw(st.sampled_from(["jsonl", "csv", "tsv", "json"]))}
    if draw(st.booleans()):
        dataset["path"] = draw(slugs) + ".jsonl"
    else:
        dataset["splits"] = draw(st.dictionaries(names, slugs, min_size=1, max_size=3))
    dataset["id_field"] = draw(names)
    dataset["input_fields"] = draw(st.lists(names, max_size=3))
    dataset["reference_field"] = draw(names)
    doc: dict[str, Any] = {
        "id": draw(slugs),
        "version": draw(st.integers(1, 10**6)),
        "title": draw(st.text(chars, min_size=1, max_size=20)),
        "language": draw(st.sampled_from(["fr", "en", "fr-CA", "eng"])),
        "license": draw(st.sampled_from(["CC0-1.0", "MIT", "CC-BY-4.0"])),
        "description": draw(texts),
        "dataset": dataset,
        "metrics": draw(
            st.lists(
                st.sampled_from(["accuracy", "macro_f1", "micro_f1"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ),
    }
    if draw(st.booleans()):
        doc["statistics"] = {
            "confidence": draw(st.floats(0.51, 0.99)),
            "bootstrap": draw(st.integers(100, 100_000)),
            "seed": draw(st.integers(0, 2**31)),
        }
    return doc


@given(raw=st.binary(max_size=300) | yamlish.map(str.encode))
def test_any_task_file_gives_a_task_or_an_input_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "task.yaml"
    path.write_bytes(raw)
    try:
        load_task(path)
    except InputError as exc:
        _check_error(exc, path, raw)


@given(doc=task_docs())
def test_valid_task_yaml_reads_back_as_the_document(tmp_path: Path, doc: dict[str, Any]) -> None:
    path = tmp_path / "task.yaml"
    raw = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")
    path.write_bytes(raw)
    task = load_task(path)
    assert task.spec == TaskSpec.model_validate(doc)
    # the spec's own dump is a valid document again, with the same meaning
    again = yaml.safe_dump(task.spec.model_dump(mode="json", exclude_none=True), allow_unicode=True)
    path.write_text(again, encoding="utf-8")
    assert load_task(path).spec == task.spec


def _damage(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    """One random change somewhere in the document: a value replaced, a key removed or added."""
    node: Any = doc
    while isinstance(node, dict) and node and draw(st.booleans()):
        child = node[draw(st.sampled_from(sorted(node)))]
        if not isinstance(child, dict) or not child:
            break
        node = child
    key = draw(st.sampled_from(sorted(node)))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        node[key] = draw(yaml_values)
    elif action == "remove":
        del node[key]
    else:
        node[draw(texts)] = draw(yaml_values)


@given(data=st.data())
def test_damaged_task_yaml_is_refused_with_an_input_error(
    tmp_path: Path, data: st.DataObject
) -> None:
    doc = data.draw(task_docs())
    _damage(data.draw, doc)
    path = tmp_path / "task.yaml"
    raw = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")
    path.write_bytes(raw)
    try:
        load_task(path)
    except InputError as exc:
        _check_error(exc, path, raw)


# --- campaign YAML ------------------------------------------------------------------------------

T0 = datetime(2027, 3, 1, tzinfo=UTC)


@st.composite
def campaign_docs(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(["dev", "test", "final"]), min_size=1, unique=True))
    phases = []
    for kind in kinds:
        start = T0 + timedelta(hours=draw(st.integers(0, 10**5)))
        end = start + timedelta(hours=draw(st.integers(1, 10**4)))
        phase: dict[str, Any] = {"kind": kind, "start": start, "end": end}
        if draw(st.booleans()):
            phase["quota"] = {
                "per_day": draw(st.integers(0, 100)),
                "total": draw(st.integers(0, 9)),
            }
        feedback = draw(st.sampled_from(["full", "rounded", "none", "ladder"]))
        phase["feedback"] = feedback
        if feedback == "ladder" and draw(st.booleans()):
            phase["ladder_step"] = draw(st.floats(0.001, 1.0))
        phase["leaderboard"] = draw(st.sampled_from(["public", "hidden"]))
        phase["accepts"] = draw(
            st.lists(
                st.sampled_from(["predictions", "endpoint", "model_file"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
        phases.append(phase)
    tasks = [
        {"task": draw(slugs) + "/task.yaml", "hidden_split": draw(names)}
        | ({"public_split": draw(names)} if draw(st.booleans()) else {})
        for _ in range(draw(st.integers(1, 3)))
    ]
    return {
        "challenge": {"id": draw(slugs), "title": draw(st.text(chars, min_size=1, max_size=20))},
        "campaign": {"id": draw(slugs), "title": draw(st.text(chars, min_size=1, max_size=20))},
        "tasks": tasks,
        "phases": phases,
    }


@given(raw=st.binary(max_size=300) | yamlish.map(str.encode))
def test_any_campaign_file_gives_a_spec_or_an_input_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "campaign.yaml"
    path.write_bytes(raw)
    try:
        load_campaign_spec(path)
    except InputError as exc:
        _check_error(exc, path, raw)


@given(doc=campaign_docs())
def test_valid_campaign_yaml_reads_back_as_the_document(
    tmp_path: Path, doc: dict[str, Any]
) -> None:
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    spec = load_campaign_spec(path)
    assert spec == CampaignSpec.model_validate(doc)
    dumped = spec.model_dump(mode="python", exclude_none=True)
    path.write_text(yaml.safe_dump(dumped, allow_unicode=True), encoding="utf-8")
    assert load_campaign_spec(path) == spec


@given(data=st.data())
def test_damaged_campaign_yaml_is_refused_with_an_input_error(
    tmp_path: Path, data: st.DataObject
) -> None:
    doc = data.draw(campaign_docs())
    _damage(data.draw, doc)
    path = tmp_path / "campaign.yaml"
    raw = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")
    path.write_bytes(raw)
    try:
        load_campaign_spec(path)
    except InputError as exc:
        _check_error(exc, path, raw)


# --- the YAML layer's own traps (regressions found by fuzzing) ----------------------------------

TRAPS = {
    "impossible date": ("phases:\n  - start: 2027-02-30\n", 2),
    "bad float tag": ("a: 1\nb: !!float abc\n", 2),
    "huge integer": ("a: " + "9" * 5000 + "\n", 1),
    "recursive alias": ("a: &x [*x]\n", 1),
    "alias": ("a: &x 1\nb: *x\n", 2),
    "deep nesting": ("a: " + "[" * 2000 + "]" * 2000 + "\n", None),
}


@pytest.mark.parametrize("loader", [load_task, load_campaign_spec], ids=["task", "campaign"])
@pytest.mark.parametrize("name", list(TRAPS))
def test_yaml_traps_are_input_errors_with_their_line(
    tmp_path: Path, loader: Any, name: str
) -> None:
    text, line = TRAPS[name]
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="invalid YAML") as exc:
        loader(path)
    assert exc.value.file == str(path)
    if line is not None:
        assert exc.value.line == line
