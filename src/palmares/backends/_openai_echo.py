"""Reading what OpenAI-compatible servers answer: generations, and echoed prompts with their
token logprobs (how a continuation's log-likelihood is recovered from ``/v1/completions``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from palmares.core.requests import Continuation, Generation


class _Unsupported(Exception):
    """A well-formed answer that can never serve the request: retrying is futile. The message
    says what is wrong, then (after a tab) what to do."""


def parse_generation(data: Any) -> Generation:
    choice = data["choices"][0]
    # chat answers carry a message (whose content is null when the model said nothing)
    text = (choice["message"]["content"] or "") if "message" in choice else choice["text"]
    if not isinstance(text, str):
        raise TypeError(f"text is a {type(text).__name__}, not a string")
    usage = data.get("usage") or {}
    return Generation(
        text, int(usage.get("completion_tokens") or 0), str(choice.get("finish_reason") or "")
    )


@dataclass(frozen=True)
class Echo:
    """The ``logprobs`` of an echoed completion: the prompt's tokens, then the generated one."""

    tokens: list[str]
    offsets: list[int]
    values: list[float | None]
    tops: list[dict[str, float] | None]
    finish_reason: str

    def measure(self) -> Callable[[str], int]:
        """How the server counts ``text_offset``: characters (llama-cpp-python, vLLM, OpenAI) or
        UTF-8 bytes. Decided from the answer: the unit in which the tokens' lengths match the
        gaps between offsets more often wins (ASCII text cannot tell, nor does it matter)."""
        gaps = list(zip(self.tokens, self.offsets, self.offsets[1:], strict=False))
        chars = sum(len(t) == b - a for t, a, b in gaps)
        utf8 = sum(len(t.encode()) == b - a for t, a, b in gaps)
        return (lambda text: len(text.encode())) if utf8 > chars else len


def parse_echo(data: Any) -> Echo:
    choice = data["choices"][0]
    logprobs = choice.get("logprobs")
    if not logprobs or logprobs.get("token_logprobs") is None:
        raise _Unsupported(
            "the server returned no logprobs for an echoed prompt, so it cannot score "
            "continuations\tuse a server that supports echo with logprobs (vLLM, "
            "llama-cpp-python) or the llama backend"
        )
    echo = Echo(
        [str(t) for t in logprobs["tokens"]],
        [int(o) for o in logprobs["text_offset"]],
        [None if v is None else float(v) for v in logprobs["token_logprobs"]],
        [_top(t) for t in logprobs["top_logprobs"]],
        str(choice.get("finish_reason") or ""),
    )
    if not len(echo.tokens) == len(echo.offsets) == len(echo.values) == len(echo.tops):
        raise ValueError("logprobs lists of different lengths")
    return echo


def _top(value: Any) -> dict[str, float] | None:
    """One token's top logprobs, checked here: scoring them runs outside the retry loop."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"top_logprobs holds a {type(value).__name__}, not an object")
    return {str(k): float(v) for k, v in value.items()}


def echo_is_aligned(echo: Echo, prompt: str) -> bool | None:
    """Whether the server scores each prompt token with the distribution that predicts it.

    llama-cpp-python (0.3.x), for a model without BOS, pairs token i with the distribution
    computed *after* it (the one that predicts token i+1) and, by the same off-by-one, drops
    the generated token. So when a token was generated (``finish_reason`` "length"), whether
    it is listed tells. None when nothing was generated (end of text)."""
    if echo.finish_reason != "length":
        return None
    end = echo.measure()(prompt)
    return any(offset >= end for offset in echo.offsets)


def greedy_hits_say_aligned(echo: Echo) -> bool:
    """For the probe's predictable prompt, where most tokens are the model's top choice:
    aligned, a token's own entry has the top logprob; shifted, its top is the next token."""
    aligned = shifted = 0
    for i, (value, top) in enumerate(zip(echo.values, echo.tops, strict=True)):
        if top and value is not None:
            aligned += value >= max(top.values()) - 1e-6
            following = echo.tokens[i + 1] if i + 1 < len(echo.tokens) else None
            shifted += max(top, key=top.__getitem__) == following
    return aligned >= shifted


def score_echo(echo: Echo, context: str, prompt: str) -> Continuation:
    """The continuation's score from the echo of ``prompt = context + continuation``.

    A token belongs to the continuation when it carries some of its text: it ends after
    ``len(context)`` (so " Paris" after a context ending in a space counts, as in the llama
    backend) and starts before ``len(prompt)`` (where the generated token starts)."""
    measure = echo.measure()
    start, end = measure(context), measure(prompt)
    ends = [*echo.offsets[1:], end]
    chosen = [i for i, a in enumerate(echo.offsets) if a < end and ends[i] > start]
    if not chosen:
        raise _Unsupported(
            f"no echoed token lies in the continuation (text offsets {echo.offsets}, "
            f"continuation at {start}-{end})\tplease report it, naming the server"
        )
    total, greedy = 0.0, True
    for i in chosen:
        value, top = echo.values[i], echo.tops[i]
        if value is None or not top:  # OpenAI's convention: a prompt's first token has none
            raise _Unsupported(
                "the server gives no logprob for the first token of a prompt\tscore this "
                "continuation after a non-empty context, or use the llama backend"
            )
        total += value
        # compared by value, not by token string: strings may collide (partial UTF-8 pieces)
        greedy = greedy and value >= max(top.values()) - 1e-6
    return Continuation(total, len(chosen), greedy)
