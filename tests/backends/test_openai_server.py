"""The ``openai`` backend against a real OpenAI-compatible server: llama-cpp-python's, on the
reference models, compared with llama_cpp run in-process.

Scored requests are few and short on purpose: with ``echo`` and ``logprobs`` this server sorts
the whole vocabulary in Python for every prompt token (~0.1 s per token for SmolLM2's 49k
vocabulary, ~0.8 s for Gemma's 262k).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from palmares.backends import load_model
from palmares.backends.openai import OpenAIBackend
from palmares.core.requests import (
    BackendError,
    Continuation,
    GenerateRequest,
    Generation,
    LoglikRequest,
    Message,
)

llama_cpp = pytest.importorskip(
    "llama_cpp", reason='llama-cpp-python is not installed (pip install "palmares[dev]")'
)

# short (each echoed token costs Gemma ~0.8 s) and non-ASCII: "Où" is 2 characters, 3 bytes
CONTEXT = "Où"
CHOICES = (" est-il", " vas-tu")


def backend(url: str, **options: Any) -> OpenAIBackend:
    model = load_model(f"openai:{url}#reference", {"timeout": 120, **options})
    assert isinstance(model, OpenAIBackend)
    return model


def run_generate(model: OpenAIBackend, request: GenerateRequest) -> Generation:
    got: dict[int, Generation] = {}
    model.generate([request], got.__setitem__)
    return got[0]


def in_process(path: str, context: str, continuations: tuple[str, ...]) -> list[Continuation]:
    """The truth, from llama_cpp's logits: log-softmax of each continuation token's row.

    The server keeps the KV cache of the longest prefix its previous prompt shares with the next
    one and evaluates only the rest; on this CPU, Gemma's scores move by up to ~0.07 nats with
    that layout (the in-process notes in docs/design), so the truth replays it: each prompt
    after the first is evaluated on top of the shared prefix, as the server does."""
    llm = llama_cpp.Llama(path, logits_all=True, n_ctx=512, n_threads=1, verbose=False)
    context_tokens = llm.tokenize(context.encode())  # with BOS where the model has one
    previous: list[int] = []
    truth = []
    for continuation in continuations:
        tokens = llm.tokenize((context + continuation).encode())
        assert tokens[: len(context_tokens)] == context_tokens
        shared = 0
        while shared < min(len(previous), len(tokens)) and previous[shared] == tokens[shared]:
            shared += 1
        llm.n_tokens = min(shared, len(tokens) - 1)  # eval() drops the KV cache past n_tokens
        llm.eval(tokens[llm.n_tokens :])
        logits = np.asarray(llm.scores[: len(tokens)], dtype=np.float64)
        logsoftmax = logits - logits.max(axis=1, keepdims=True)
        logsoftmax -= np.log(np.exp(logsoftmax).sum(axis=1, keepdims=True))
        rows = range(len(context_tokens), len(tokens))  # row i - 1 predicts token i
        logprob = sum(logsoftmax[i - 1, tokens[i]] for i in rows)
        greedy = all(int(logsoftmax[i - 1].argmax()) == tokens[i] for i in rows)
        truth.append(Continuation(float(logprob), len(rows), greedy))
        previous = tokens
    return truth


def test_chat_generation(smollm2_server: str) -> None:
    request = GenerateRequest(
        messages=(Message("user", "Quelle est la capitale de la France ?"),), max_tokens=24
    )
    generation = run_generate(backend(smollm2_server), request)
    assert generation.text.strip()
    assert 0 < generation.n_tokens <= 24
    assert generation.finish_reason in ("stop", "length")


def test_completion_stops_at_the_stop_sequence(smollm2_server: str) -> None:
    request = GenerateRequest(prompt="1, 2, 3, 4,", max_tokens=20, stop=(", 7",))
    generation = run_generate(backend(smollm2_server), request)
    assert generation == Generation(" 5, 6", generation.n_tokens, "stop")


def test_loglikelihood_equals_llama_cpp_in_process(gemma_server: str) -> None:
    """Gemma has a BOS token: the server aligns its echoed logprobs, and through the backend
    they equal llama_cpp's own to 0.01 nats. One request at a time: the server's prefix reuse,
    replayed by the truth, depends on the order of the prompts."""
    from palmares.testing import gemma_gguf

    got: dict[int, tuple[Continuation, ...]] = {}
    backend(gemma_server, concurrency=1).loglikelihood(
        [LoglikRequest(CONTEXT, CHOICES)], got.__setitem__
    )
    truth = in_process(str(gemma_gguf()), CONTEXT, CHOICES)
    scores = got[0]
    for served, expected in zip(scores, truth, strict=True):
        assert served.logprob == pytest.approx(expected.logprob, abs=0.01)
        assert (served.n_tokens, served.greedy) == (expected.n_tokens, expected.greedy)
    best = max(range(len(CHOICES)), key=lambda i: scores[i].logprob)
    assert best == max(range(len(CHOICES)), key=lambda i: truth[i].logprob)


def test_a_model_without_bos_is_refused(smollm2_server: str) -> None:
    """SmolLM2 has no BOS token: llama-cpp-python (0.3.x) pairs each echoed prompt token with
    the distribution that follows it. The backend notices and refuses rather than score wrong."""
    with pytest.raises(BackendError, match="distribution that follows it"):
        backend(smollm2_server).loglikelihood(
            [LoglikRequest(CONTEXT, CHOICES[:1])], lambda i, r: None
        )
