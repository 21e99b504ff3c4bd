"""The acceptance check between backends: the same Gemma GGUF in-process (``llama``) and behind
llama-cpp-python's OpenAI-compatible server (``openai``) choose the same answers.

Items are short on purpose (the server sorts Gemma's 262k vocabulary in Python for every echoed
token). Log-likelihoods are compared too, with a tolerance that says what this CPU allows:
llama.cpp's results for Gemma move by up to ~0.4 nats with the number of tokens decoded together
(measured, docs/design/llama-backend-notes.md), and the server decodes each prompt after the prefix
it shares with the previous one, so its batches differ from the in-process backend's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from palmares.backends import load_model
from palmares.core.requests import Continuation, LoglikRequest
from palmares.testing import gemma_gguf

pytest.importorskip("llama_cpp", reason='needs pip install "palmares[dev]"')

# 10 short French items (written for this test, CC0): context, right answer, wrong answer
ITEMS = [
    ("La capitale de la France est", " Paris", " Berlin"),
    ("Le ciel est", " bleu", " carré"),
    ("Un chat dit", " miaou", " cocorico"),
    ("Deux plus deux font", " quatre", " neuf"),
    ("La neige est", " blanche", " brûlante"),
    ("Le soleil se lève à", " l'est", " minuit"),
    ("Le lait vient de la", " vache", " pierre"),
    ("On boit de l'", "eau", "acier"),
    ("Le contraire de chaud est", " froid", " vert"),
    ("Une semaine a sept", " jours", " roues"),
]


def _scores(model: Any, requests: list[LoglikRequest]) -> list[tuple[Continuation, ...]]:
    got: dict[int, tuple[Continuation, ...]] = {}
    model.loglikelihood(requests, got.__setitem__)
    return [got[i] for i in range(len(requests))]


def test_llama_and_openai_backends_agree_on_gemma(gemma_server: str) -> None:
    requests = [LoglikRequest(c, (a, b)) for c, a, b in ITEMS]
    local = load_model(f"llama:{gemma_gguf()}", {"n_ctx": "256", "group": "1"})
    mine = _scores(local, requests)
    local.close()
    remote = load_model(f"openai:{gemma_server}#gemma", {"concurrency": 1, "timeout": 300})
    theirs = _scores(remote, requests)
    gaps = []
    for a, b in zip(mine, theirs, strict=True):
        assert [c.n_tokens for c in a] == [c.n_tokens for c in b]  # same tokenisation
        assert np.argmax([c.logprob for c in a]) == np.argmax([c.logprob for c in b])
        gaps += [abs(x.logprob - y.logprob) for x, y in zip(a, b, strict=True)]
    exact = sum(g <= 0.01 for g in gaps)
    print(f"max |Δ log-lik| {max(gaps):.4f} nats; {exact}/{len(gaps)} within 0.01")
    assert max(gaps) <= 0.5
