"""What an OpenAI-compatible server answers, fuzzed (the pure functions of the backend).

The backend retries a garbled 200 only when parsing raises one of the errors it expects
(:data:`MALFORMED`), and turns :class:`_Unsupported` into a clear, final error. Any other
exception would escape the retry loop as a raw traceback. So:

* any JSON value as a generation or an echo answer: parsed, or one of those errors;
* an echo that parsed is scored (or refused as unsupported) without any other error;
* a well-formed answer drawn from a strategy reads back as what it says;
* ``Retry-After``: any header value gives a wait in [0, 120] seconds.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from palmares.backends._openai_echo import (
    _Unsupported,
    echo_is_aligned,
    greedy_hits_say_aligned,
    parse_echo,
    parse_generation,
    score_echo,
)
from palmares.backends.openai import MALFORMED, MAX_RETRY_AFTER_S, retry_after

chars = st.characters(exclude_categories=("Cs",))
texts = st.text(chars, max_size=8)
numbers = st.integers(-(10**6), 10**6) | st.floats()
json_scalars = st.none() | st.booleans() | numbers | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return value | json_values


# answers of roughly the right shape, with any value anywhere
logprobs = st.fixed_dictionaries(
    {},
    optional={
        "tokens": _maybe(st.lists(_maybe(texts), max_size=4)),
        "text_offset": _maybe(st.lists(_maybe(st.integers(0, 40)), max_size=4)),
        "token_logprobs": _maybe(st.lists(_maybe(st.floats(-20, 0) | st.none()), max_size=4)),
        "top_logprobs": _maybe(
            st.lists(
                _maybe(st.dictionaries(texts, _maybe(st.floats(-20, 0)), max_size=2)), max_size=4
            )
        ),
    },
)
choice = st.fixed_dictionaries(
    {},
    optional={
        "text": _maybe(texts),
        "message": _maybe(st.fixed_dictionaries({"content": _maybe(texts | st.none())})),
        "finish_reason": _maybe(st.sampled_from(["stop", "length"])),
        "logprobs": _maybe(logprobs),
    },
)
answers = st.fixed_dictionaries(
    {"choices": _maybe(st.lists(_maybe(choice), max_size=2))},
    optional={"usage": _maybe(st.fixed_dictionaries({"completion_tokens": _maybe(numbers)}))},
)


@given(data=answers | json_values)
def test_any_generation_answer_parses_or_raises_an_expected_error(data: Any) -> None:
    try:
        generation = parse_generation(data)
    except MALFORMED:
        return
    assert isinstance(generation.text, str) and isinstance(generation.finish_reason, str)


@given(
    data=answers | json_values, context=texts, continuation=st.text(chars, min_size=1, max_size=5)
)
def test_any_echo_answer_parses_and_scores_or_raises_an_expected_error(
    data: Any, context: str, continuation: str
) -> None:
    try:
        echo = parse_echo(data)
    except (_Unsupported, *MALFORMED):
        return
    prompt = context + continuation
    # what runs outside the retry loop: only _Unsupported may come out
    try:
        echo_is_aligned(echo, prompt)
        greedy_hits_say_aligned(echo)
        score = score_echo(echo, context, prompt)
    except _Unsupported:
        return
    assert score.n_tokens >= 1 and isinstance(score.greedy, bool)


@given(
    text=texts,
    tokens=st.none() | st.integers(0, 10**6),
    finish=st.sampled_from(["stop", "length", None]),
    chat=st.booleans(),
)
def test_well_formed_generations_read_back(
    text: str, tokens: int | None, finish: str | None, chat: bool
) -> None:
    body: dict[str, Any] = {"finish_reason": finish}
    body |= {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
    generation = parse_generation({"choices": [body], "usage": {"completion_tokens": tokens}})
    assert (generation.text, generation.n_tokens, generation.finish_reason) == (
        text,
        tokens or 0,
        finish or "",
    )


@st.composite
def echoes(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """An aligned echo of ``context + continuation``, tokenised into pieces, character offsets."""
    pieces = draw(st.lists(st.text(chars, min_size=1, max_size=4), min_size=2, max_size=6))
    cut = draw(st.integers(1, len(pieces) - 1))
    context, continuation = "".join(pieces[:cut]), "".join(pieces[cut:])
    offsets = [sum(len(p) for p in pieces[:i]) for i in range(len(pieces))]
    values = [draw(st.floats(-20, 0)) for _ in pieces]
    tops = [{p: v} for p, v in zip(pieces, values, strict=True)]
    logprobs = {
        "tokens": pieces,
        "text_offset": offsets,
        "token_logprobs": values,
        "top_logprobs": tops,
    }
    return {"choices": [{"logprobs": logprobs, "finish_reason": "stop"}]}, context, continuation


@given(case=echoes())
def test_well_formed_echo_scores_the_continuation_tokens(case: Any) -> None:
    data, context, continuation = case
    echo = parse_echo(data)
    score = score_echo(echo, context, context + continuation)
    values = data["choices"][0]["logprobs"]["token_logprobs"]
    cut = [o >= len(context) for o in data["choices"][0]["logprobs"]["text_offset"]].index(True)
    assert score.logprob == math.fsum(values[cut:]) or math.isclose(
        score.logprob, math.fsum(values[cut:]), abs_tol=1e-9
    )
    assert score.n_tokens == len(values) - cut and score.greedy


header_values = st.text(
    st.characters(min_codepoint=32, max_codepoint=126), max_size=40
) | st.sampled_from(
    [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1e999",
        "-5",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Mon, 99 Foo 0000",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "0x10",
        "  7  ",
    ]
)


@given(value=header_values)
def test_retry_after_is_always_a_bounded_wait(value: str) -> None:
    response = httpx.Response(429, headers={"retry-after": value})
    wait = retry_after(response)
    assert 0.0 <= wait <= MAX_RETRY_AFTER_S
