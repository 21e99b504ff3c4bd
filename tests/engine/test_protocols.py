"""Protocols with a deterministic fake model: requests, answers, metrics, few-shot, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from tests.fakes import FakeBackend, fake_logprob

from palmares import load_task
from palmares.core import InputError
from palmares.core.requests import GenerateRequest, LoglikRequest
from palmares.engine import evaluate
from palmares.engine.protocols import protocol_for

QUESTIONS = [
    {
        "id": "q1",
        "question": "Capitale de la France ?",
        "a": "Paris",
        "b": "Lyon",
        "c": "",
        "answer": "A",
    },
    {"id": "q2", "question": "2 + 2 ?", "a": "trois", "b": "quatre", "c": "cinq", "answer": "B"},
    {
        "id": "q3",
        "question": "Couleur du ciel ?",
        "a": "vert",
        "b": "rouge",
        "c": "bleu",
        "answer": 2,
    },
    {
        "id": "q4",
        "question": "Animal qui aboie ?",
        "a": "chien",
        "b": "chat",
        "c": "poisson",
        "answer": "chien",
    },
]
SHOTS = [
    {"id": "s1", "question": "Un plus un ?", "a": "deux", "b": "un", "c": "zéro", "answer": "A"},
    {
        "id": "s2",
        "question": "Jour après lundi ?",
        "a": "dimanche",
        "b": "mardi",
        "c": "jeudi",
        "answer": "B",
    },
]

MC_TASK = """
id: mc
version: 1
title: QCM
language: fr
license: CC0-1.0
dataset:
  splits: {dev: shots.jsonl, test: items.jsonl}
  format: jsonl
  id_field: id
protocol:
  type: multiple_choice
  context: "Question : {{ question }}\\nRéponse :"
  choice_fields: [a, b, c]
  answer_field: answer
  FEWSHOT
metrics: [acc, acc_norm, acc_norm_tokens]
"""


def _jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _mc_task(tmp_path: Path, fewshot: str = "") -> Path:
    _jsonl(tmp_path / "items.jsonl", QUESTIONS)
    _jsonl(tmp_path / "shots.jsonl", SHOTS)
    path = tmp_path / "task.yaml"
    path.write_text(MC_TASK.replace("FEWSHOT", fewshot), "utf-8")
    return path


def test_multiple_choice_requests_and_scores(tmp_path: Path) -> None:
    task = load_task(_mc_task(tmp_path))
    proto = protocol_for(task, "test")
    reqs = proto.requests(task.items("test"))
    assert reqs[0] == LoglikRequest(
        "Question : Capitale de la France ?\nRéponse :", (" Paris", " Lyon")
    )
    assert reqs[1].continuations == (" trois", " quatre", " cinq")
    backend = FakeBackend()
    result = evaluate(task, backend)
    right = [0, 1, 2, 0]
    acc = []
    acc_norm = []
    for _q, r, want in zip(QUESTIONS, reqs, right, strict=True):
        ll = [fake_logprob(r.context, c) for c in r.continuations]
        acc.append(int(np.argmax(ll)) == want)
        acc_norm.append(
            int(np.argmax([x / (len(c) - 1) for x, c in zip(ll, r.continuations, strict=True)]))
            == want
        )
    assert result.table.scores["acc"].value == pytest.approx(np.mean(acc))
    assert result.table.scores["acc_norm"].value == pytest.approx(np.mean(acc_norm))
    assert result.table.scores["acc"].method == "wilson"
    assert result.extra["protocol"]["type"] == "multiple_choice"
    assert result.extra["model"] == {"backend": "fake", "model": "fake-1"}


def test_fewshot_prefix_is_shared_and_recorded(tmp_path: Path) -> None:
    task = load_task(_mc_task(tmp_path, "fewshot: {split: dev, n: 2, seed: 3}"))
    proto = protocol_for(task, "test")
    reqs = proto.requests(task.items("test"))
    prefix = (
        "Question : Un plus un ?\nRéponse : deux\n\n"
        "Question : Jour après lundi ?\nRéponse : mardi\n\n"
    )
    assert all(r.context.startswith(prefix) for r in reqs)
    assert proto.describe()["fewshot_ids"] == ["s1", "s2"]


def test_fewshot_from_the_scored_split_is_refused(tmp_path: Path) -> None:
    task = load_task(_mc_task(tmp_path, "fewshot: {split: test, n: 1}"))
    with pytest.raises(InputError, match="split being scored"):
        protocol_for(task, "test")


def test_bad_answer_names_file_line_and_field(tmp_path: Path) -> None:
    rows = [dict(q) for q in QUESTIONS]
    rows[2]["answer"] = "Z"
    path = _mc_task(tmp_path)
    _jsonl(tmp_path / "items.jsonl", rows)
    with pytest.raises(InputError) as err:
        evaluate(load_task(path), FakeBackend())
    assert str(err.value).endswith(
        "items.jsonl:3: answer: answer 'Z' is not the index, letter or text of a non-empty choice"
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        (
            "choice_fields: [a, b, c]",
            "choice_fields: [a]",
            14,
            "protocol.choice_fields",
            "at least 2",
        ),
        (
            "answer_field: answer",
            "answer_fields: answer",
            15,
            "protocol.answer_fields",
            "unknown key",
        ),
        ("{{ question }}", "{{ question }", 13, "protocol.context", "template error"),
        ("[acc, acc_norm, acc_norm_tokens]", "[accuracy]", 17, "metrics", "choice"),
    ],
)
def test_bad_protocol_keys_are_located(
    tmp_path: Path, old: str, new: str, line: int, field: str, words: str
) -> None:
    path = _mc_task(tmp_path)
    path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")
    with pytest.raises(InputError) as err:
        load_task(path)
    assert f"task.yaml:{line}: {field}: " in str(err.value)
    assert words in str(err.value)


def test_missing_template_field_is_located(tmp_path: Path) -> None:
    path = _mc_task(tmp_path)
    path.write_text(path.read_text("utf-8").replace("{{ question }}", "{{ questoin }}"), "utf-8")
    task = load_task(path)
    with pytest.raises(InputError, match=r"protocol\.context: no column 'questoin'"):
        task.items("test")


PAIRS_TASK = """
id: pairs
version: 1
title: Paires
language: fr
license: CC0-1.0
dataset:
  path: pairs.jsonl
  format: jsonl
  slice_fields: [bias_type]
protocol:
  type: pairs
  first_field: more
  second_field: less
metrics: [first_preferred, loglik_diff]
"""


def test_pairs_share_and_difference_with_intervals(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = ["les", "riches", "pauvres", "femmes", "hommes", "jeunes", "vieux", "sont", "ici"]
    rows = [
        {
            "more": " ".join(rng.choice(words, 5)),
            "less": " ".join(rng.choice(words, 5)),
            "bias_type": ["gender", "age"][i % 2],
        }
        for i in range(60)
    ]
    _jsonl(tmp_path / "pairs.jsonl", rows)
    (tmp_path / "task.yaml").write_text(PAIRS_TASK, "utf-8")
    result = evaluate(load_task(tmp_path / "task.yaml"), FakeBackend())
    first = np.array([fake_logprob("", r["more"]) for r in rows])
    second = np.array([fake_logprob("", r["less"]) for r in rows])
    share = result.table.scores["first_preferred"]
    k = int((first > second).sum())
    assert share.value == pytest.approx(k / 60)
    ci = stats.binomtest(k, 60).proportion_ci(0.95, method="wilson")
    assert share.ci == pytest.approx((ci.low, ci.high))
    diff = result.table.scores["loglik_diff"]
    t = stats.ttest_1samp(first - second, 0).confidence_interval(0.95)
    assert diff.value == pytest.approx((first - second).mean())
    assert diff.ci == pytest.approx((t.low, t.high))
    assert set(result.table.slices["bias_type"]) == {"gender", "age"}
    assert result.table.slices["bias_type"]["age"]["first_preferred"].n == 30


GEN_TASK = """
id: gen
version: 1
title: Questions
language: fr
license: CC0-1.0
dataset:
  splits: {dev: shots.jsonl, test: items.jsonl}
  format: jsonl
  id_field: id
  reference_field: answer
protocol:
  type: TYPE
  template: "Question : {{ question }}\\nRéponse :"
  SYSTEM
  fewshot: {split: dev, n: 1, seed: 0}
  stop: ["\\n"]
  extract: "(?i)réponse\\\\s*:\\\\s*(\\\\w+)"
metrics: [exact_match]
"""


@pytest.mark.parametrize("kind", ["generate", "chat"])
def test_generate_and_chat_extract_and_score(tmp_path: Path, kind: str) -> None:
    _jsonl(
        tmp_path / "items.jsonl",
        [
            {"id": "1", "question": "Capitale ?", "answer": "Paris"},
            {"id": "2", "question": "Fleuve ?", "answer": "Seine"},
        ],
    )
    _jsonl(tmp_path / "shots.jsonl", [{"id": "s", "question": "Mer ?", "answer": "Manche"}])
    system = "system: 'Réponds en un mot.'" if kind == "chat" else ""
    body = GEN_TASK.replace("TYPE", kind).replace("SYSTEM", system)
    (tmp_path / "task.yaml").write_text(body, "utf-8")
    task = load_task(tmp_path / "task.yaml")
    backend = FakeBackend({"Réponse :": "Réponse : Paris, bien sûr"})
    result = evaluate(task, backend)
    req = backend.asked[0]
    assert isinstance(req, GenerateRequest) and req.stop == ("\n",) and req.temperature == 0.0
    if kind == "generate":
        assert (
            req.prompt == "Question : Mer ?\nRéponse : Manche\n\nQuestion : Capitale ?\nRéponse :"
        )
    else:
        assert req.messages is not None
        assert [(m.role, m.content) for m in req.messages] == [
            ("system", "Réponds en un mot."),
            ("user", "Question : Mer ?\nRéponse :"),
            ("assistant", "Manche"),
            ("user", "Question : Capitale ?\nRéponse :"),
        ]
    assert result.predictions == ["Paris", "Paris"]
    assert result.table.scores["exact_match"].value == 0.5
    assert result.extra["protocol"]["fewshot_ids"] == ["s"]


def test_pairs_with_an_empty_sentence_are_skipped_and_listed(tmp_path: Path) -> None:
    rows = [
        {"more": "Les riches sont avares.", "less": "Les pauvres sont avares.", "bias_type": "x"}
    ] * 3
    rows = [*rows, {"more": "Les esclaves sont oubliés.", "less": "", "bias_type": "x"}]
    _jsonl(tmp_path / "pairs.jsonl", rows)
    (tmp_path / "task.yaml").write_text(PAIRS_TASK, "utf-8")
    result = evaluate(load_task(tmp_path / "task.yaml"), FakeBackend())
    assert result.table.scores["first_preferred"].n == 3
    assert result.extra["skipped"] == [{"id": "3", "reason": "less is empty"}]
