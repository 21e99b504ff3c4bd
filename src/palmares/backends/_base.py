"""The backend contract: how the engine talks to a model, whatever runs it.

A backend answers batches of requests and reports each answer as soon as it has it through
``on_result(index, response)``, so that the engine can cache it (a crash loses nothing finished)
and show progress. Backends may answer out of order; they must answer every request or raise
:class:`~palmares.core.requests.BackendError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from palmares.core.requests import Continuation, GenerateRequest, Generation, LoglikRequest

OnLoglik = Callable[[int, tuple[Continuation, ...]], None]
OnGeneration = Callable[[int, Generation], None]


class Backend(ABC):
    """A model the engine can query. Subclasses set ``name`` (the prefix in ``name:target``)."""

    name: ClassVar[str]
    #: what ``pip install`` brings the optional dependencies (``palmares[llama]``), for errors
    extra: ClassVar[str | None] = None

    @classmethod
    @abstractmethod
    def create(cls, target: str, options: dict[str, str]) -> Backend:
        """Build from the CLI form ``name:target`` and ``--model-arg key=value`` options."""

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What determines the model's answers (file hash or endpoint + model, parameters).

        Written to results and used in cache keys; never contains secrets.
        """

    @property
    def label(self) -> str:
        """Short name for humans (file stem, model name)."""
        return str(self.identity().get("model", self.name))

    @abstractmethod
    def loglikelihood(self, requests: Sequence[LoglikRequest], on_result: OnLoglik) -> None:
        """Score every continuation of every request."""

    @abstractmethod
    def generate(self, requests: Sequence[GenerateRequest], on_result: OnGeneration) -> None:
        """Generate text for every request (completion or chat)."""

    def close(self) -> None:  # noqa: B027 — optional hook
        """Release the model (files, connections)."""
