"""What the engine asks of a model, and what the model answers: plain data, no I/O.

Requests are grouped the way models can share work: a :class:`LoglikRequest` carries one context
and every continuation to score after it, so a backend evaluates the context once (KV prefix
reuse) instead of once per choice. Each request has a canonical JSON form, which the response
cache hashes together with the model's identity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from palmares.core.errors import PalmaresError
from palmares.core.hashing import canonical_json, sha256_hex


@dataclass(frozen=True)
class LoglikRequest:
    """Score ``continuations`` after ``context``: log P(continuation | context), summed over its
    tokens. An empty context means "from the start of the text" (after BOS where the model has
    one)."""

    context: str
    continuations: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "loglik",
            "context": self.context,
            "continuations": list(self.continuations),
        }


@dataclass(frozen=True)
class Continuation:
    """The score of one continuation: summed log-probability (natural log), its token count,
    and whether greedy decoding would have produced it."""

    logprob: float
    n_tokens: int
    greedy: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Continuation:
        return cls(float(data["logprob"]), int(data["n_tokens"]), bool(data["greedy"]))


@dataclass(frozen=True)
class Message:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class GenerateRequest:
    """Generate text after ``prompt`` (completion) or after ``messages`` (chat, through the
    model's chat template). Temperature 0 is greedy decoding."""

    prompt: str | None = None
    messages: tuple[Message, ...] | None = None
    max_tokens: int = 64
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a generate request has either a prompt or messages")

    @property
    def is_chat(self) -> bool:
        return self.messages is not None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["kind"] = "chat" if self.is_chat else "generate"
        return body


@dataclass(frozen=True)
class Generation:
    text: str
    n_tokens: int = 0
    finish_reason: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Generation:
        return cls(str(data["text"]), int(data["n_tokens"]), str(data["finish_reason"]))


Request = LoglikRequest | GenerateRequest
Response = tuple[Continuation, ...] | Generation


def response_to_json(response: Response) -> Any:
    if isinstance(response, Generation):
        return asdict(response)
    return [asdict(c) for c in response]


def response_from_json(request: Request, data: Any) -> Response:
    if isinstance(request, LoglikRequest):
        return tuple(Continuation.from_json(c) for c in data)
    return Generation.from_json(data)


def request_key(model_identity: dict[str, Any], request: Request) -> str:
    """Cache key of ``request`` sent to the model described by ``model_identity``."""
    return sha256_hex(canonical_json({"model": model_identity, "request": request.to_json()}))


@dataclass
class BackendError(PalmaresError):
    """A model failed to answer (after the backend's retries). ``detail`` is safe to show: it
    never holds an API key."""

    detail: str
    retryable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


def request_from_json(data: dict[str, Any]) -> Request:
    """The request :meth:`LoglikRequest.to_json` / :meth:`GenerateRequest.to_json` wrote."""
    if data.get("kind") == "loglik":
        return LoglikRequest(str(data["context"]), tuple(str(c) for c in data["continuations"]))
    messages = data.get("messages")
    return GenerateRequest(
        prompt=None if data.get("prompt") is None else str(data["prompt"]),
        messages=None
        if messages is None
        else tuple(Message(str(m["role"]), str(m["content"])) for m in messages),
        max_tokens=int(data.get("max_tokens", 64)),
        stop=tuple(str(s) for s in data.get("stop", ())),
        temperature=float(data.get("temperature", 0.0)),
        seed=int(data.get("seed", 0)),
    )
