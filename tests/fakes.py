"""A deterministic stand-in model for fast unit tests of protocols, the cache and resume.

Real models are tested in tests/backends and tests/engine/test_llama_runs.py; this one only
makes the engine's bookkeeping quick to check. ``fail_after`` injects a failure after that many
answers (the fault is the point of those tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from palmares.backends import Backend, OnGeneration, OnLoglik
from palmares.core.requests import (
    BackendError,
    Continuation,
    GenerateRequest,
    Generation,
    LoglikRequest,
)


def fake_logprob(context: str, continuation: str) -> float:
    """Longer continuations are less likely; a fixed per-character cost otherwise."""
    return -sum((ord(ch) * 31 + len(context)) % 97 for ch in continuation) / 100.0


class FakeBackend(Backend):
    name = "fake"

    def __init__(self, answers: dict[str, str] | None = None, fail_after: int | None = None):
        self.answers = answers or {}
        self.fail_after = fail_after
        self.asked: list[Any] = []

    @classmethod
    def create(cls, target: str, options: dict[str, str]) -> FakeBackend:
        return cls()

    def identity(self) -> dict[str, Any]:
        return {"backend": "fake", "model": "fake-1"}

    def _tick(self) -> None:
        if self.fail_after is not None and len(self.asked) >= self.fail_after:
            raise BackendError("fake model: injected failure")

    def loglikelihood(self, requests: Sequence[LoglikRequest], on_result: OnLoglik) -> None:
        for i, r in enumerate(requests):
            self._tick()
            self.asked.append(r)
            on_result(
                i,
                tuple(
                    Continuation(fake_logprob(r.context, c), len(c.split()), False)
                    for c in r.continuations
                ),
            )

    def generate(self, requests: Sequence[GenerateRequest], on_result: OnGeneration) -> None:
        for i, r in enumerate(requests):
            self._tick()
            self.asked.append(r)
            text = r.prompt if r.prompt is not None else (r.messages or ())[-1].content
            last = text.strip().splitlines()[-1]
            on_result(i, Generation(self.answers.get(last, "je ne sais pas"), 3, "stop"))
