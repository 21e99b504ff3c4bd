"""``sandbox``: a GGUF file someone else sent, run by the ``llama`` backend in a child process
that cannot reach the network and has memory and time limits.

The model file is checked first (:mod:`~palmares.backends.gguf`: magic, header, counts, offsets;
pickle checkpoints refused). The child (``palmares.backends._sandbox_child``) then confines
itself before it opens the file — a new network namespace with no interface up, an address-space
limit, no core dumps, a file-size limit, and death with its parent — and answers requests as
JSON lines. It never sees a task: only the requests (inputs), so hidden references are not in
its memory, and the text of its errors and logs never reaches a participant (a failure is
reported by its kind: crash, memory, time, refused file). A crash or a hang fails the run with
a reason; the worker that started it carries on.

The parent keeps the answers as they arrive (the engine's response cache), so a run killed
part-way resumes where it was.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Literal, NoReturn

from pydantic_settings import BaseSettings, SettingsConfigDict

from palmares.backends._base import Backend, OnGeneration, OnLoglik
from palmares.backends._options import option_float, option_int, reject_unknown
from palmares.backends._sandbox_child import FAULT_ENV
from palmares.backends.gguf import check_gguf
from palmares.core.requests import (
    BackendError,
    GenerateRequest,
    LoglikRequest,
    Request,
    response_from_json,
)

log = logging.getLogger(__name__)

#: the longest message the child may send (one answer: a generation, a few log-likelihoods)
MAX_MESSAGE = 16 * 2**20


class SandboxSettings(BaseSettings):
    """Limits of the sandbox, from ``PALMARES_SANDBOX_*`` (the ``sandbox:`` options override)."""

    model_config = SettingsConfigDict(env_prefix="PALMARES_SANDBOX_")

    #: address-space limit of the model's process (MB): the file, its context and buffers
    memory_mb: int = 8192
    #: wall-clock limit of one run (s), loading included
    timeout_s: float = 6 * 3600.0
    #: "none": a network namespace of its own, nothing reachable (refuses to run without one);
    #: "host": the host's network (only for trusted files, or where namespaces are unavailable)
    network: Literal["none", "host"] = "none"


class SandboxFailed(BackendError):
    """The model's process failed: the reason says how (never the process's own text)."""


class SandboxedBackend(Backend):
    name = "sandbox"
    extra = "llama"

    def __init__(self, path: Path, llama: dict[str, str], limits: SandboxSettings) -> None:
        self.path, self.limits = path, limits
        self.info = check_gguf(path)  # a hostile header never reaches the loader
        self._deadline = time.monotonic() + limits.timeout_s
        self._folder = tempfile.TemporaryDirectory(prefix="palmares-sandbox-")
        self._log = Path(self._folder.name) / "child.log"
        self._buffer = b""
        order = {
            "model": str(path.resolve()),
            "options": llama,
            "memory_bytes": limits.memory_mb * 2**20,
            "network": limits.network,
            "parent": os.getpid(),
        }
        with self._log.open("wb") as log:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "palmares.backends._sandbox_child", json.dumps(order)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,  # llama.cpp's log: kept for the operator, never shown to a team
                cwd=self._folder.name,
                env=_scrubbed_environment(),
                start_new_session=True,  # its own process group: a timeout kills it all
            )
        try:
            hello = self._receive()
            if not isinstance(hello.get("identity"), dict):
                self._fail(hello)
        except BaseException:
            self._folder.cleanup()
            raise
        self._identity: dict[str, Any] = dict(hello["identity"])

    @classmethod
    def create(cls, target: str, options: dict[str, str]) -> SandboxedBackend:
        from palmares.core import InputError

        path = Path(target).expanduser()
        if not path.is_file():
            raise InputError(f"model file not found: {target}", field="model")
        base = SandboxSettings()
        limits = SandboxSettings(
            memory_mb=option_int(options, "memory_mb", base.memory_mb, minimum=64),
            timeout_s=option_float(options, "timeout_s", base.timeout_s),
            network=base.network,
        )
        llama: dict[str, str] = {
            k: options.pop(k) for k in ("threads", "n_ctx", "group") if k in options
        }
        reject_unknown(options, cls.name)
        return cls(path, llama, limits)

    def identity(self) -> dict[str, Any]:
        return self._identity

    @property
    def label(self) -> str:
        return self.path.stem

    def loglikelihood(self, requests: Sequence[LoglikRequest], on_result: OnLoglik) -> None:
        self._ask("loglikelihood", requests, on_result)

    def generate(self, requests: Sequence[GenerateRequest], on_result: OnGeneration) -> None:
        self._ask("generate", requests, on_result)

    def _ask(self, op: str, requests: Sequence[Request], on_result: Callable[..., None]) -> None:
        self._send({"op": op, "requests": [r.to_json() for r in requests]})
        answered = 0
        while answered < len(requests):
            message = self._receive()
            index = message.get("i")
            if not isinstance(index, int) or not 0 <= index < len(requests):
                self._fail(message)
            try:
                response = response_from_json(requests[index], message["response"])
            except (KeyError, TypeError, ValueError):
                self._fail({"error": "malformed answer"})
            on_result(index, response)
            answered += 1

    def _send(self, message: dict[str, Any]) -> None:
        assert self._child.stdin is not None
        try:
            self._child.stdin.write(json.dumps(message).encode() + b"\n")
            self._child.stdin.flush()
        except BrokenPipeError:
            self._fail({})

    def _receive(self) -> dict[str, Any]:
        """The child's next message, waiting no later than the run's deadline. Read from the
        pipe's descriptor into a bounded buffer (a buffered reader would hide lines from
        ``select``, and a child must not make the parent hold an endless line)."""
        stream: IO[bytes] | None = self._child.stdout
        assert stream is not None
        while b"\n" not in self._buffer:
            left = self._deadline - time.monotonic()
            ready = select.select([stream], [], [], left)[0] if left > 0 else []
            if not ready:
                self._kill()
                raise SandboxFailed(
                    f"the model ran past its time limit ({self.limits.timeout_s:g} s)"
                )
            data = os.read(stream.fileno(), 1 << 16)
            if not data:
                self._fail({})
            self._buffer += data
            if len(self._buffer) > MAX_MESSAGE:
                self._fail({"error": "malformed answer"})
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError:
            message = {"error": "malformed answer"}
        return message if isinstance(message, dict) else {"error": "malformed answer"}

    def _fail(self, message: dict[str, Any]) -> NoReturn:
        """Raise the reason the child stopped (or sent something it should not have)."""
        self._kill()
        code = self._child.wait()
        reason = _reason(code, message.get("error"), self.limits)
        # the process's own words, for the operator's log only (a participant sees the reason)
        tail = (
            self._log.read_bytes()[-4000:].decode("utf-8", "replace") if self._log.exists() else ""
        )
        log.warning("sandboxed model %s: %s; its log ends with:\n%s", self.path.name, reason, tail)
        raise SandboxFailed(reason)

    def _kill(self) -> None:
        if self._child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._child.pid, signal.SIGKILL)
            self._child.wait()

    def close(self) -> None:
        if self._child.poll() is None:
            assert self._child.stdin is not None
            try:
                self._child.stdin.close()  # end of requests: the child exits
                self._child.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self._kill()
        for pipe in (self._child.stdin, self._child.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
        self._folder.cleanup()


# what the child may say of itself: a fixed vocabulary, so that a compromised child cannot pass
# text (a hidden item, say) through an error message to a participant
KNOWN_ERRORS = {
    "no-namespace": "no network namespace could be made here: the sandbox refuses to run the "
    "model with network access (an operator may set PALMARES_SANDBOX_NETWORK=host for trusted "
    "files)",
    "load": "llama.cpp could not load the model file (unsupported architecture or missing "
    "metadata)",
    "memory": "the model ran out of memory",
    "malformed answer": "the model's process answered something malformed",
    "run": "the model failed while answering",
}


def _reason(code: int, error: object, limits: SandboxSettings) -> str:
    if isinstance(error, str) and error in KNOWN_ERRORS:
        text = KNOWN_ERRORS[error]
        if error == "memory":
            text += f" (limit {limits.memory_mb} MB)"
        return text
    if code < 0:
        name = signal.Signals(-code).name
        return (
            f"the model's process crashed ({name}); a model too large for the memory limit "
            f"({limits.memory_mb} MB) can fail this way"
        )
    return f"the model's process stopped unexpectedly (exit code {code})"


def _scrubbed_environment() -> dict[str, str]:
    """No secrets (database URL, API keys, the credentials key) cross into the child."""
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", FAULT_ENV)
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["HOME"] = tempfile.gettempdir()
    return env
