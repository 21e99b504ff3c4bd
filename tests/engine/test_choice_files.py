"""Prediction files for model-protocol tasks: the chosen answer's index for a multiple-choice
task, the two log-likelihoods for a pair (what a model run produces, so files and models are
scored by the same code)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from palmares.core import InputError, ValueKind
from palmares.engine import Scorer
from palmares.tasks import load_task
from palmares.tasks.predictions import _check_value

CULTURE = Path(__file__).resolve().parents[2] / "src/palmares/packs/fr/culture-fr/task.yaml"


def test_a_multiple_choice_task_scores_a_file_of_chosen_indices(tmp_path: Path) -> None:
    task = load_task(CULTURE)
    items = task.items("test")
    rows = [json.loads(line) for line in CULTURE.with_name("culture.jsonl").open()]
    answers = {r["id"]: r["reponse"] for r in rows}
    path = tmp_path / "p.jsonl"
    # right on the even items, choice 3 (right only when it is the answer) on the odd ones
    chosen = {i: answers[i] if k % 2 == 0 else 3 for k, i in enumerate(items.ids)}
    path.write_text(
        "".join(json.dumps({"id": i, "prediction": c}) + "\n" for i, c in chosen.items())
    )
    result = Scorer(task, "test").score_file(str(path))
    expected = sum(chosen[i] == answers[i] for i in items.ids) / len(items)
    assert math.isclose(result.table.scores["acc"].value, expected)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": items.ids[0], "prediction": "Canberra"}) + "\n")
    with pytest.raises(InputError, match="index of the chosen answer"):
        Scorer(task, "test").score_file(str(bad))


def test_pair_predictions_are_two_log_likelihoods() -> None:
    where = {"file": "p.jsonl", "line": 1}
    assert _check_value({"first": -3, "second": "-4.5"}, ValueKind.PAIR, where) == {
        "first": -3.0,
        "second": -4.5,
    }
    with pytest.raises(InputError, match=r"p\.jsonl:1: prediction: expected \{"):
        _check_value([1, 2], ValueKind.PAIR, where)


def _letter_task(tmp_path: Path, answer_is: str | None = None) -> Path:
    rows = [
        {"id": "q1", "question": "Lettre ?", "options": ["C", "B", "A", "D"], "key": "C"},
        {"id": "q2", "question": "Couleur ?", "options": ["rouge", "vert"], "key": "B"},
    ]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    extra = f", answer_is: {answer_is}" if answer_is else ""
    (tmp_path / "task.yaml").write_text(
        "id: lettres\nversion: 1\ntitle: L\nlanguage: fr\nlicense: CC0-1.0\n"
        "dataset: {path: d.jsonl, format: jsonl, id_field: id}\n"
        "protocol: {type: multiple_choice, context: '{{ question }}', choices_field: options,"
        f" answer_field: key{extra}}}\nmetrics: [acc]\n",
        "utf-8",
    )
    return tmp_path / "task.yaml"


def test_letter_answers_are_scored_and_an_ambiguous_letter_is_refused(tmp_path: Path) -> None:
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "q1", "prediction": 2}\n{"id": "q2", "prediction": 1}\n')
    # option "C" is choice 0, the letter C is choice 2: auto cannot tell which is meant
    with pytest.raises(InputError, match="answer_is") as found:
        Scorer(load_task(_letter_task(tmp_path))).score_file(str(preds))
    assert found.value.line == 1
    result = Scorer(load_task(_letter_task(tmp_path, "letter"))).score_file(str(preds))
    assert result.table.scores["acc"].value == 1.0  # letters C and B: choices 2 and 1
    with pytest.raises(InputError, match="'B' is not the text"):  # named file, line, field
        Scorer(load_task(_letter_task(tmp_path, "text")))


def _fields_task(tmp_path: Path, keys: list[object], metrics: str = "[acc]") -> Path:
    rows = [
        {"id": f"q{k}", "question": "Couleur ?", "options": ["rouge", "vert", "bleu"], "key": key}
        for k, key in enumerate(keys)
    ]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    (tmp_path / "task.yaml").write_text(
        "id: champs\nversion: 1\ntitle: C\nlanguage: fr\nlicense: CC0-1.0\n"
        "dataset: {path: d.jsonl, format: jsonl, id_field: id}\n"
        "protocol: {type: multiple_choice, context: '{{ question }}', choices_field: options,"
        f" answer_field: key}}\nmetrics: {metrics}\n",
        "utf-8",
    )
    return tmp_path / "task.yaml"


def test_an_answer_may_carry_metric_fields_that_no_system_sees(tmp_path: Path) -> None:
    from palmares.core import Predictions
    from palmares.engine._prepare import metric_data
    from palmares.engine.protocols import protocol_for

    keys = [{"answer": "vert", "w": [1, 2]}, {"answer": 2, "w": [3]}, {"answer": "A", "w": []}]
    task = load_task(_fields_task(tmp_path, keys))
    items = task.items("test")
    assert set(items.inputs) == {"question", "options"}  # what a hidden split's download holds
    requests = protocol_for(task, "test").requests(items)
    assert all("w" not in r.context for r in requests)  # type: ignore[attr-defined]
    scorer = Scorer(task, "test")
    assert scorer.items.references == [
        {"answer": 1, "w": [1, 2]},
        {"answer": 2, "w": [3]},
        {"answer": 0, "w": []},
    ]
    preds = Predictions(values=[{"logliks": [0, -1, -2], "chars": [1] * 3, "tokens": [1] * 3}] * 3,
                        digest="x", source="p")  # fmt: skip
    data = metric_data(scorer._refs, preds, scorer.kind, "fr")
    assert data.refs.tolist() == [1, 2, 0]  # type: ignore[union-attr]
    assert data.item_field("w", "m") == [[1, 2], [3], []]  # type: ignore[union-attr]
    assert math.isclose(scorer.score(preds).table.scores["acc"].value, 1 / 3)
    # chosen indices: the same fields come from the task, not from the file
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{k}", "prediction": a}) + "\n"
                            for k, a in enumerate([1, 2, 1])))  # fmt: skip
    assert math.isclose(scorer.score_file(str(path)).table.scores["acc"].value, 2 / 3)
    with pytest.raises(InputError, match="needs the metric field 'x'"):
        data.item_field("x", "m")  # type: ignore[union-attr]


def test_metric_fields_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InputError, match='under "answer"') as found:
        Scorer(load_task(_fields_task(tmp_path, [{"answer": 0, "w": 1}, {"w": 2}])))
    assert found.value.line == 2
    with pytest.raises(InputError, match="every item's answer gives the same ones") as found:
        Scorer(load_task(_fields_task(tmp_path, [{"answer": 0, "w": 1}, 1])))
    assert found.value.line == 2
    # a metric names the fields it reads (item_fields): an item without them is refused
    task = load_task(_fields_task(tmp_path, [0, 1], "[acc, bbq_s_dis]"))
    with pytest.raises(InputError, match="'bbq_s_dis' needs the metric field 'roles'") as found:
        Scorer(task)
    assert found.value.line == 1
