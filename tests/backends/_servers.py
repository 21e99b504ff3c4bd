"""Real HTTP servers for the ``openai`` backend's tests: a scripted misbehaving one (fault
injection, in a thread) and llama-cpp-python's OpenAI-compatible server (a subprocess).

Both are real sockets on 127.0.0.1: the backend's retry logic reacts to what httpx actually
raises on a reset, a timeout or a garbled body, which a mocked transport would only imitate.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Seen:
    """One request the scripted server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        if "messages" in self.body:
            return str(self.body["messages"][-1]["content"])
        return str(self.body.get("prompt", ""))


@dataclass
class Step:
    """What the server does with one request."""

    status: int = 200
    body: bytes | None = None  # None: a valid answer built from the request
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without answering
    options: dict[str, Any] = field(default_factory=dict)  # for answer(), when body is None


def ok(delay: float = 0.0) -> Step:
    return Step(delay=delay)


def status(code: int, text: str = "", **headers: str) -> Step:
    return Step(code, json.dumps({"error": {"message": text}}).encode(), headers)


def garbage() -> Step:
    return Step(200, b'{"choices": [{"text": "cut off in the mid')


def drop() -> Step:
    return Step(drop=True)


def hang(seconds: float) -> Step:
    return Step(delay=seconds)


def answer(
    seen: Seen, byte_offsets: bool = False, generated: bool = True, finish: str = "length"
) -> dict[str, Any]:
    """A well-formed answer: generations say which prompt they answer; echoed completions score
    each word-like token of the prompt -1 (greedy) and add one generated token (unless not
    ``generated``: what llama-cpp-python does when it misaligns, or when it generates EOS)."""
    if "messages" in seen.body:
        message = {"role": "assistant", "content": f"re: {seen.prompt}"}
        return {"choices": [{"message": message, "finish_reason": "stop"}], "usage": usage(2)}
    if not seen.body.get("echo"):
        choice = {"text": f"re: {seen.prompt}", "finish_reason": "length"}
        return {"choices": [choice], "usage": usage(2)}
    tokens = re.findall(r"\s*\S+", seen.prompt) + ([" X"] if generated else [])
    offsets, at = [], 0
    for token in tokens:
        offsets.append(at)
        at += len(token.encode()) if byte_offsets else len(token)
    values: list[float | None] = [None] + [-1.0] * (len(tokens) - 1)
    tops: list[dict[str, float] | None] = [None] + [{t: -1.0} for t in tokens[1:]]
    logprobs: dict[str, Any] = {
        "tokens": tokens,
        "text_offset": offsets,
        "token_logprobs": values,
        "top_logprobs": tops,
    }
    echoed = {"text": "".join(tokens), "logprobs": logprobs, "finish_reason": finish}
    return {"choices": [echoed], "usage": usage(1)}


def usage(n: int) -> dict[str, int]:
    return {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n}


class ScriptedServer:
    """An OpenAI-like server whose answers follow ``script``: a list of steps taken in arrival
    order (then ``ok()`` forever), or a function of the request (for concurrent tests, where
    arrival order is not fixed)."""

    def __init__(
        self, script: list[Step] | Callable[[Seen], Step], byte_offsets: bool = False
    ) -> None:
        self.seen: list[Seen] = []
        self.peak_in_flight = 0  # the most requests it was answering at once
        self._in_flight = 0
        self._script = script
        self._byte_offsets = byte_offsets
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.block_on_close = False  # hung answers must not hold up the teardown
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def step_for(self, seen: Seen) -> Step:
        with self._lock:
            self.seen.append(seen)
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            if callable(self._script):
                return self._script(seen)
            return self._script.pop(0) if self._script else ok()

    def answered(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def body_for(self, seen: Seen, step: Step) -> bytes:
        options = {"byte_offsets": self._byte_offsets, **step.options}
        return json.dumps(answer(seen, **options)).encode()


def _handler(owner: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers: retries reuse connections

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw))
            step = owner.step_for(seen)
            time.sleep(step.delay)
            owner.answered()
            if step.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            body = owner.body_for(seen, step) if step.body is None else step.body
            try:
                self.send_response(step.status)
                for key, value in {"Content-Type": "application/json", **step.headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timeout) and closed the socket
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_server(
    model: Path, startup_s: float = 120.0, api_key: str | None = None
) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on ``model``; yields its base URL (``…/v1``).
    With ``api_key``, the server refuses requests that do not carry it.

    One thread: the scores then do not depend on how work is split between threads. The port is
    free when chosen but another process (an xdist worker) may take it first: then the server
    exits at once and we try another."""
    # its log goes to a file: a pipe nobody reads would fill up and block the server
    with tempfile.TemporaryFile("w+") as log:
        for _ in range(3):
            port = free_port()
            command = [
                sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1",
            ]  # fmt: skip
            if api_key is not None:
                command += ["--api_key", api_key]
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
            try:
                url = f"http://127.0.0.1:{port}/v1"
                if _wait_until_up(process, url, startup_s, api_key):
                    yield url
                    return
            finally:
                _stop(process)
        log.seek(0)
        raise RuntimeError(
            f"llama_cpp.server did not start; its log ends with:\n{log.read()[-3000:]}"
        )


def _wait_until_up(
    process: subprocess.Popen[str], url: str, startup_s: float, api_key: str | None = None
) -> bool:
    """True once ``/v1/models`` answers; False if the server exited (port taken, bad model)."""
    import httpx

    deadline = time.monotonic() + startup_s
    while process.poll() is None:
        try:
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            if httpx.get(url + "/models", timeout=1.0, headers=headers).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"llama_cpp.server did not answer on {url} in {startup_s:g} s")
        time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
