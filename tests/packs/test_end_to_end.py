"""Each task end to end: predictions files through ``palmares eval`` (perfect and imperfect, with
known scores), and model runs through the engine with a scripted model (few-shot included)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import palmares.cli._eval  # noqa: F401  (registers the sub-command)
from palmares import load_task
from palmares.backends import Backend, OnGeneration, OnLoglik
from palmares.cli import cli
from palmares.core.requests import Continuation, GenerateRequest, Generation, LoglikRequest
from palmares.engine import evaluate
from palmares.packs.fr import task_path

REFUS = "Désolé, mais je ne peux pas vous aider avec cette demande."
AIDE = "Bien sûr : voici quelques repères utiles."
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def _eval(task: Path, predictions: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    path = out.with_suffix(".jsonl")
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions), "utf-8")
    res = CliRunner().invoke(
        cli, ["eval", "--task", str(task), "--predictions", str(path), "--output", str(out)]
    )
    assert res.exit_code == 0, res.output
    return json.loads((out / "results.json").read_text("utf-8"))


def _as_written(reference: str) -> str:
    """The reference as a system might write it: another decimal mark, grouped thousands, a
    unit or a capital letter after it."""
    if reference in WEEKDAYS:
        return reference.capitalize() + "."
    if "," in reference:
        return reference.replace(",", ".")
    if len(reference) >= 4:
        return f"{int(reference):,}".replace(",", "\u00a0") + " unités"
    return f"Réponse : {reference}"


def _wrong(reference: str) -> str:
    if reference in WEEKDAYS:
        return WEEKDAYS[(WEEKDAYS.index(reference) + 1) % 7]
    return reference + "1"  # 14 → 141, 0,75 → 0,751


@pytest.mark.parametrize("task_id", ["calcul-fr", "dates-fr", "unites-fr"])
def test_generated_task_on_predictions_files(task_id: str, tmp_path: Path) -> None:
    task = task_path(task_id)
    items = load_task(task).items("test")
    refs = dict(zip(items.ids, items.references, strict=True))
    perfect = [{"id": i, "prediction": _as_written(r)} for i, r in refs.items()]
    scores = _eval(task, perfect, tmp_path / "perfect")["scores"]["exact_number"]
    assert scores["value"] == 1.0 and scores["n"] == len(items) and scores["ci_method"] == "wilson"
    # every fifth item wrong: 20 % errors, in every slice alike (templates run round-robin)
    imperfect = [
        {"id": i, "prediction": _wrong(r) if k % 5 == 0 else r}
        for k, (i, r) in enumerate(refs.items())
    ]
    result = _eval(task, imperfect, tmp_path / "imperfect")
    assert result["scores"]["exact_number"]["value"] == pytest.approx(0.8)
    lo, hi = result["scores"]["exact_number"]["ci"]
    assert lo < 0.8 < hi
    field = next(iter(items.slices))
    assert set(result["slices"][field]) == set(items.slices[field])


def test_securite_on_predictions_files(securite: Path, tmp_path: Path) -> None:
    items = load_task(securite).items()
    expected = dict(zip(items.ids, items.references, strict=True))
    category = dict(zip(items.ids, items.slices["categorie"], strict=True))
    perfect = [
        {"id": i, "prediction": REFUS if e == "refuser" else AIDE} for i, e in expected.items()
    ]
    result = _eval(securite, perfect, tmp_path / "perfect")
    assert result["scores"]["refusal_accuracy"]["value"] == 1.0
    assert result["slices"]["attendu"]["répondre"]["over_refusal"]["value"] == 0.0
    assert result["slices"]["attendu"]["refuser"]["under_refusal"]["value"] == 0.0

    # refuses every benign « armes » prompt (5), answers every harmful « piratage » prompt (5)
    def answer(i: str) -> str:
        if category[i] == "armes":
            return REFUS
        if category[i] == "piratage":
            return AIDE
        return REFUS if expected[i] == "refuser" else AIDE

    result = _eval(securite, [{"id": i, "prediction": answer(i)} for i in expected], tmp_path / "x")
    by_expected = result["slices"]["attendu"]
    assert by_expected["répondre"]["over_refusal"]["value"] == pytest.approx(5 / 40)
    assert by_expected["répondre"]["over_refusal"]["n"] == 40
    assert by_expected["refuser"]["under_refusal"]["value"] == pytest.approx(5 / 40)
    assert result["scores"]["refusal_accuracy"]["value"] == pytest.approx(70 / 80)
    assert result["slices"]["categorie"]["armes"]["refusal_accuracy"]["value"] == 0.5
    assert result["slices"]["categorie"]["fraude"]["refusal_accuracy"]["value"] == 1.0


class Scripted(Backend):
    """A model that answers from a table: ``loglik(context, choice, choices)`` and
    ``answer(prompt)``."""

    name = "scripted"

    def __init__(
        self,
        loglik: Callable[[str, str, tuple[str, ...]], float] | None = None,
        answer: Callable[[str], str] | None = None,
    ) -> None:
        self._loglik, self._answer = loglik, answer
        self.asked: list[Any] = []

    @classmethod
    def create(cls, target: str, options: dict[str, str]) -> Scripted:
        return cls()

    def identity(self) -> dict[str, Any]:
        return {"backend": "scripted", "model": "table"}

    def loglikelihood(self, requests: Sequence[LoglikRequest], on_result: OnLoglik) -> None:
        assert self._loglik is not None
        for i, r in enumerate(requests):
            self.asked.append(r)
            scores = [self._loglik(r.context, c, r.continuations) for c in r.continuations]
            on_result(i, tuple(Continuation(s, 1, False) for s in scores))

    def generate(self, requests: Sequence[GenerateRequest], on_result: OnGeneration) -> None:
        assert self._answer is not None
        for i, r in enumerate(requests):
            self.asked.append(r)
            text = r.prompt if r.prompt is not None else (r.messages or ())[-1].content
            on_result(i, Generation(self._answer(text), 3, "stop"))


Key = tuple[str, tuple[str, ...]]


def _culture_answers(task: Path) -> dict[Key, tuple[str, int]]:
    """(question, choices as the model sees them) → (right choice, position in the split).
    Several items share a wording (« Quelle est l'orthographe correcte ? »): the choices
    tell them apart."""
    out = {}
    for split in ("test", "fewshot"):
        items = load_task(task).items(split)
        for k, (q, choices, ref) in enumerate(
            zip(items.inputs["question"], items.inputs["choix"], items.references, strict=True)
        ):
            out[q, tuple(" " + c for c in choices)] = (" " + choices[ref], k)
    return out


def test_culture_end_to_end_with_a_scripted_model(culture: Path, tmp_path: Path) -> None:
    answers = _culture_answers(culture)

    def key(context: str, choices: tuple[str, ...]) -> Key:
        return context.rsplit("Question : ", 1)[1].removesuffix("\nRéponse :"), choices

    def perfect(context: str, choice: str, choices: tuple[str, ...]) -> float:
        return 0.0 if choice == answers[key(context, choices)][0] else -5.0

    def every_fourth_wrong(context: str, choice: str, choices: tuple[str, ...]) -> float:
        right, k = answers[key(context, choices)]
        if k % 4 == 0:  # the right choice is the least likely one
            return -9.0 if choice == right else -1.0
        return perfect(context, choice, choices)

    task = load_task(culture)
    result = evaluate(task, Scripted(loglik=perfect))
    assert {m: s.value for m, s in result.table.scores.items()} == {
        "acc": 1.0,
        "acc_norm": 1.0,
        "acc_norm_tokens": 1.0,
    }
    assert result.table.scores["acc"].n == 163
    assert set(result.table.slices["categorie"]) == {
        "geographie", "histoire", "sciences", "grammaire", "vocabulaire", "orthographe"
    }  # fmt: skip
    result = evaluate(task, Scripted(loglik=every_fourth_wrong))
    assert result.table.scores["acc"].value == pytest.approx(1 - 41 / 163)

    # few-shot: the five examples, with their right answers, before every question
    folder = tmp_path / "culture-fr"
    shutil.copytree(culture.parent, folder)
    text = (folder / "task.yaml").read_text("utf-8")
    (folder / "task.yaml").write_text(
        text.replace(
            "  answer_field: reponse\n",
            "  answer_field: reponse\n  fewshot: {split: fewshot, n: 5}\n",
        ),
        "utf-8",
    )
    model = Scripted(loglik=perfect)
    shots = load_task(folder / "task.yaml")
    result = evaluate(shots, model, limit=4)
    assert result.table.scores["acc"].value == 1.0
    assert len(result.extra["protocol"]["fewshot_ids"]) == 5
    first = model.asked[0].context
    assert first.count("Question : ") == 6
    assert "Question : Quelle est la capitale du Portugal ?\nRéponse : Lisbonne\n\n" in first


@pytest.mark.parametrize("task_id", ["calcul-fr", "dates-fr", "unites-fr"])
def test_generated_task_end_to_end_with_a_scripted_model(task_id: str) -> None:
    """The generate protocol: three examples from `dev` before each question, answers
    extracted up to the end of the line, scored by exact_number."""
    task = load_task(task_path(task_id))
    table = {}
    for split in ("dev", "test"):
        items = task.items(split)
        table.update(zip(items.inputs["question"], items.references, strict=True))

    def answer(prompt: str) -> str:
        question = prompt.rsplit("\n", 2)[-2].split(" : ", 1)[1]
        return " " + _as_written(table[question])

    model = Scripted(answer=answer)
    result = evaluate(task, model, limit=12)
    assert result.table.scores["exact_number"].value == 1.0
    assert result.table.scores["exact_number"].n == 12
    prompt = model.asked[0].prompt
    assert prompt.count("Réponse (") == 4  # three examples and the question
    dev = task.items("dev")
    assert sum(q in prompt for q in dev.inputs["question"]) == 3


def test_securite_end_to_end_with_a_scripted_model(securite: Path) -> None:
    task = load_task(securite)
    items = task.items()
    expected = dict(zip(items.inputs["prompt"], items.references, strict=True))
    model = Scripted(answer=lambda p: REFUS if expected[p] == "refuser" else AIDE)
    result = evaluate(task, model)
    assert result.table.scores["refusal_accuracy"].value == 1.0
    assert model.asked[0].messages[-1].role == "user"
