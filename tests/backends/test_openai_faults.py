"""The ``openai`` backend against a real local server that misbehaves on purpose: what it
retries, what it does not, what it reports before failing, and that the API key never leaks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from _servers import ScriptedServer, Seen, Step, drop, free_port, garbage, hang, ok, status

from palmares.backends import load_model
from palmares.backends.openai import PROBE, OpenAIBackend
from palmares.core import InputError
from palmares.core.requests import (
    BackendError,
    Continuation,
    GenerateRequest,
    Generation,
    LoglikRequest,
    Message,
)

SECRET = "sk-test-0123456789abcdef"


def backend(url: str, **options: Any) -> OpenAIBackend:
    """Tiny backoff and timeout: the whole file runs in seconds."""
    merged = {"backoff": 0.01, "timeout": 0.5, "retries": 5, "concurrency": 1, **options}
    model = load_model(f"openai:{url}#test-model", merged)
    assert isinstance(model, OpenAIBackend)
    return model


def generate(model: OpenAIBackend, prompts: list[str]) -> dict[int, Generation]:
    got: dict[int, Generation] = {}

    def on_result(index: int, generation: Generation) -> None:
        assert index not in got, "a request was reported twice"
        got[index] = generation

    model.generate([GenerateRequest(prompt=p, max_tokens=5) for p in prompts], on_result)
    return got


# --- construction ----------------------------------------------------------------------------


def test_target_and_options_are_parsed() -> None:
    model = load_model(
        "openai:http://10.0.0.1:8000/v1/#my-model",
        {"concurrency": "8", "timeout": "5", "retries": "0", "backoff": "2"},
    )
    assert isinstance(model, OpenAIBackend)
    assert (model.base_url, model.model, model.concurrency) == (
        "http://10.0.0.1:8000/v1",
        "my-model",
        8,
    )
    assert (model.timeout, model.retries, model.backoff) == (5.0, 0, 2.0)
    # options change no answer: the identity (and so the cache) ignores them
    assert model.identity() == {
        "backend": "openai", "base_url": "http://10.0.0.1:8000/v1", "model": "my-model",
    }  # fmt: skip
    assert model.label == "my-model"


@pytest.mark.parametrize(
    ("spec", "options", "field", "words"),
    [
        ("openai:http://127.0.0.1:8000/v1", {}, "model", "after '#'"),
        ("openai:http://127.0.0.1:8000/v1#", {}, "model", "after '#'"),
        ("openai:127.0.0.1:8000/v1#m", {}, "model", "http(s) URL"),
        ("openai:http://h/v1#m", {"chat": "true"}, "model-arg", "'chat'"),
        ("openai:http://h/v1#m", {"concurrency": "0"}, "model-arg concurrency", "at least 1"),
        ("openai:http://h/v1#m", {"timeout": "soon"}, "model-arg timeout", "number"),
        ("openai:http://h/v1#m", {"api_key_env": "PALMARES_UNSET_KEY"}, "model-arg", "not set"),
    ],
)
def test_bad_targets_and_options_are_input_errors(
    spec: str, options: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_model(spec, options)
    assert caught.value.field == field
    assert words in caught.value.problem


# --- retries ---------------------------------------------------------------------------------


def test_every_transient_fault_is_retried_until_success() -> None:
    script = [status(500), status(429, "slow down", **{"Retry-After": "0.3"}), garbage(), drop(),
              hang(2.0), status(503), ok()]  # fmt: skip
    with ScriptedServer(script) as server:
        model = backend(server.url, retries=6)
        started = time.monotonic()
        got = generate(model, ["bonjour"])
        elapsed = time.monotonic() - started
    assert got == {0: Generation("re: bonjour", 2, "length")}
    assert len(server.seen) == 7
    # Retry-After (0.3 s) and the timeout (0.5 s) were waited for; backoff alone is ~0.3 s
    assert 0.8 < elapsed < 2.0


def test_exhausted_retries_raise_a_clear_error() -> None:
    with ScriptedServer(lambda seen: status(503, "overloaded")) as server:
        model = backend(server.url, retries=2)
        with pytest.raises(BackendError) as caught:
            generate(model, ["bonjour"])
    assert len(server.seen) == 3
    message = str(caught.value)
    assert server.url + "/completions" in message
    assert "3 attempts" in message and "HTTP 503" in message and "overloaded" in message
    assert "retries=" in message  # says what to do
    assert caught.value.retryable


def test_a_dead_server_is_a_connection_error() -> None:
    model = backend(f"http://127.0.0.1:{free_port()}/v1", retries=1)
    with pytest.raises(BackendError, match=r"2 attempts: connection failed \(ConnectError"):
        generate(model, ["bonjour"])


def test_timeouts_are_retried_then_reported() -> None:
    with ScriptedServer(lambda seen: hang(1.0)) as server:
        model = backend(server.url, retries=1, timeout=0.2)
        with pytest.raises(BackendError, match=r"2 attempts: no answer within 0.2 s"):
            generate(model, ["bonjour"])
    assert len(server.seen) == 2


@pytest.mark.parametrize("code", [400, 404, 422])
def test_client_errors_fail_at_once(code: int) -> None:
    with ScriptedServer(lambda seen: status(code, "prompt too long")) as server:
        model = backend(server.url)
        with pytest.raises(BackendError) as caught:
            generate(model, ["bonjour"])
    assert len(server.seen) == 1
    assert f"1 attempt: HTTP {code}" in str(caught.value) and "prompt too long" in str(caught.value)
    assert not caught.value.retryable


def test_a_server_without_logprobs_fails_at_once() -> None:
    """Ollama-like: a valid completion, but no logprobs for the echoed prompt."""
    no_logprobs = Step(body=b'{"choices": [{"text": "x", "logprobs": null}]}')
    with ScriptedServer(lambda seen: no_logprobs) as server:
        model = backend(server.url)
        with pytest.raises(BackendError, match="no logprobs"):
            model.loglikelihood([LoglikRequest("Le ciel est", (" bleu",))], lambda i, r: None)
    assert len(server.seen) == 1


def test_requests_in_flight_are_reported_before_the_error() -> None:
    """At the first definitive failure nothing new starts; what is in flight finishes and is
    reported (so the engine caches it); then the error is raised."""

    def script(seen: Seen) -> Step:
        return {"slow": ok(delay=0.3), "bad": status(400, "no")}.get(seen.prompt, ok())

    with ScriptedServer(script) as server:
        model = backend(server.url, concurrency=2)
        got: dict[int, Generation] = {}
        prompts = ["fast", "slow", "bad", "never", "never either"]
        with pytest.raises(BackendError, match="HTTP 400"):
            model.generate(
                [GenerateRequest(prompt=p) for p in prompts],
                lambda i, g: got.__setitem__(i, g),
            )
    assert sorted(got) == [0, 1]  # "slow" was in flight when "bad" failed: it was kept
    assert sorted(s.prompt for s in server.seen) == ["bad", "fast", "slow"]  # "never" was not


def test_concurrency_is_bounded() -> None:
    with ScriptedServer(lambda seen: ok(delay=0.1)) as server:
        model = backend(server.url, concurrency=3)
        started = time.monotonic()
        got = generate(model, [f"p{i}" for i in range(9)])
        elapsed = time.monotonic() - started
    assert {i: g.text for i, g in got.items()} == {i: f"re: p{i}" for i in range(9)}
    assert server.peak_in_flight == 3
    assert elapsed < 0.9  # 3 waves of 0.1 s, not 9


# --- the API key -----------------------------------------------------------------------------


def test_the_key_is_sent_as_a_bearer_header_and_nowhere_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_SERVER_KEY", SECRET)
    # a server whose error message quotes the key it refused must not leak it through us
    script = [ok(), status(401, f"invalid key {SECRET}")]
    with ScriptedServer(script) as server:
        model = backend(server.url, api_key_env="MY_SERVER_KEY")
        assert generate(model, ["bonjour"])[0].text == "re: bonjour"
        with pytest.raises(BackendError) as caught:
            generate(model, ["encore"])
    assert [s.headers["authorization"] for s in server.seen] == [f"Bearer {SECRET}"] * 2
    error = caught.value
    assert "MY_SERVER_KEY" in str(error)  # it says which variable to check...
    for shown in (str(error), repr(error), str(error.extra), repr(model), str(model.identity())):
        assert SECRET not in shown  # ...but never the key itself
    assert "invalid key ***" in str(error)


def test_no_key_no_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedServer([]) as server:
        generate(backend(server.url), ["bonjour"])
    assert "authorization" not in server.seen[0].headers


# --- request bodies and answers --------------------------------------------------------------


def test_chat_and_completion_requests() -> None:
    chat = GenerateRequest(
        messages=(Message("system", "Sois bref."), Message("user", "Bonjour ?")),
        max_tokens=7, stop=("\n",), temperature=0.5, seed=3,
    )  # fmt: skip
    completion = GenerateRequest(prompt="Il était une fois", max_tokens=9)
    with ScriptedServer([]) as server:
        got: dict[int, Generation] = {}
        backend(server.url).generate([chat, completion], lambda i, g: got.__setitem__(i, g))
    assert got == {
        0: Generation("re: Bonjour ?", 2, "stop"),
        1: Generation("re: Il était une fois", 2, "length"),
    }
    first, second = server.seen
    assert first.path == "/v1/chat/completions"
    assert first.body == {
        "model": "test-model", "max_tokens": 7, "temperature": 0.5, "seed": 3, "stop": ["\n"],
        "messages": [{"role": "system", "content": "Sois bref."},
                     {"role": "user", "content": "Bonjour ?"}],
    }  # fmt: skip
    assert second.path == "/v1/completions"
    assert second.body["prompt"] == "Il était une fois" and "stop" not in second.body


@pytest.mark.parametrize("byte_offsets", [False, True])
def test_loglikelihood_keeps_the_continuation_tokens(byte_offsets: bool) -> None:
    """The fake server scores every word -1 and counts offsets in characters or in bytes; with
    a French context, the two differ and both must find the same continuation tokens."""
    requests = [
        LoglikRequest("Où est l'élève ? Il est", (" à l'école", " au marché ce matin", "")),
        LoglikRequest("Été", (" chaud",)),
    ]
    got: dict[int, tuple[Continuation, ...]] = {}
    with ScriptedServer([], byte_offsets=byte_offsets) as server:
        backend(server.url, concurrency=2).loglikelihood(
            requests, lambda i, r: got.__setitem__(i, r)
        )
    assert got == {
        0: (Continuation(-2.0, 2, True), Continuation(-4.0, 4, True), Continuation(0.0, 0, True)),
        1: (Continuation(-1.0, 1, True),),
    }
    assert len(server.seen) == 3  # the empty continuation needs no request
    body = server.seen[0].body
    assert body["echo"] is True and body["logprobs"] == 1 and body["max_tokens"] == 1


def test_a_misaligned_server_is_refused() -> None:
    """llama-cpp-python with a model without BOS: each token scored with the wrong distribution,
    recognisable by the missing generated token. Its numbers must not be used."""
    with ScriptedServer(lambda seen: Step(options={"generated": False})) as server:
        model = backend(server.url, concurrency=2)
        with pytest.raises(BackendError) as caught:
            model.loglikelihood(
                [LoglikRequest("Le ciel est", (" bleu", " vert"))], lambda i, r: None
            )
    assert "distribution that follows it" in str(caught.value)
    assert "llama backend" in str(caught.value)
    assert not caught.value.retryable
    assert len(server.seen) == 2  # no retry: the same answer would come again


@pytest.mark.parametrize("aligned", [True, False])
def test_when_an_answer_cannot_tell_the_server_is_probed_once(aligned: bool) -> None:
    """An echo that ends on the end-of-text token generated nothing, so it cannot show whether
    the server aligns logprobs: a probe with a predictable prompt asks, once."""

    def script(seen: Seen) -> Step:
        if seen.prompt == PROBE:
            return Step(options={"generated": aligned})
        return Step(options={"generated": False, "finish": "stop"})

    got: dict[int, tuple[Continuation, ...]] = {}
    requests = [LoglikRequest("Le ciel est", (" bleu", " vert")), LoglikRequest("Il", (" pleut",))]
    with ScriptedServer(script) as server:
        model = backend(server.url, concurrency=2)
        if aligned:
            model.loglikelihood(requests, lambda i, r: got.__setitem__(i, r))
        else:
            with pytest.raises(BackendError, match="distribution that follows it"):
                model.loglikelihood(requests, lambda i, r: got.__setitem__(i, r))
    assert [s.prompt for s in server.seen].count(PROBE) == 1
    if aligned:
        assert got == {0: (Continuation(-1.0, 1, True),) * 2, 1: (Continuation(-1.0, 1, True),)}
        assert len(server.seen) == 4


def test_called_from_a_running_event_loop() -> None:
    """In a notebook an event loop is already running: the backend must still work."""
    with ScriptedServer([]) as server:
        model = backend(server.url)

        async def inside() -> dict[int, Generation]:
            return generate(model, ["bonjour"])

        assert asyncio.run(inside())[0].text == "re: bonjour"
