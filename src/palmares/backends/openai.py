"""Any OpenAI-compatible HTTP server as a model (vLLM, llama.cpp's server, Ollama, TGI, hosted
APIs): ``openai:http://host:port/v1#model-name``.

Why it looks like this:

- Servers are slow, shared and flaky, so requests run concurrently (a bounded pool of workers on
  one event loop) and transient failures (429, 5xx, timeouts, dropped connections, garbled 200s)
  are retried with exponential backoff and jitter; anything else fails at once.
- A failure must not cost finished work: at the first definitive failure no new request starts,
  the ones in flight finish and are reported (the engine caches them), then the error is raised.
- Log-likelihoods come from ``/v1/completions`` with ``echo`` and ``logprobs``: the server scores
  the prompt ``context + continuation`` and we keep the tokens that carry continuation text,
  found by their ``text_offset``. Servers differ (see ``docs/backends.md``): offsets count
  characters or bytes, and llama-cpp-python misaligns the logprobs of models without BOS, which
  we detect and refuse rather than return wrong scores.
- The API key lives in one private attribute and goes only into the ``Authorization`` header:
  never into identity(), errors, logs or repr.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from palmares.backends._base import Backend, OnGeneration, OnLoglik
from palmares.backends._openai_echo import (
    _Unsupported,
    echo_is_aligned,
    greedy_hits_say_aligned,
    parse_echo,
    parse_generation,
    score_echo,
)
from palmares.backends._options import option_float, option_int, reject_unknown
from palmares.core import InputError
from palmares.core.requests import (
    BackendError,
    Continuation,
    GenerateRequest,
    LoglikRequest,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[httpx.AsyncClient], Awaitable[None]]

#: what parsing a garbled 200 raises (a list where an object was due, an infinite count…):
#: such an answer is retried like a 5xx
MALFORMED = (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError,
             RecursionError)  # fmt: skip
MAX_BACKOFF_S = 30.0
MAX_RETRY_AFTER_S = 120.0  # a server asking for more is treated as down, not as busy
SNIPPET_CHARS = 200  # of a server's error body: enough to read it, never a whole prompt
PROBE = "1, 2, 3, 4, 5, 6, 7, 8,"  # its greedy next token is " 9", not the end of text
MISALIGNED = (
    "the server scores each echoed prompt token with the distribution that follows it instead "
    "of the one that predicts it (llama-cpp-python's server does this for models without a BOS "
    "token, such as SmolLM2), so its log-likelihoods would be wrong\tscore this model with the "
    "llama backend, or serve it with a server that aligns them (vLLM)"
)


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        concurrency: int = 4,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        api_key_env: str = "OPENAI_API_KEY",
        api_key: str | None = None,
    ) -> None:
        """``api_key`` (a campaign worker's, for a participant's endpoint) wins over the
        environment variable."""
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.api_key_env = api_key_env
        # name-mangled: kept out of sight
        self.__api_key = api_key or os.environ.get(api_key_env) or None
        self._aligned: bool | None = None  # does the server align echoed logprobs? (probed)
        self._probe_lock = asyncio.Lock()  # replaced at each run: a lock serves one event loop

    @classmethod
    def create(cls, target: str, options: dict[str, str]) -> OpenAIBackend:
        url, _, model = target.partition("#")
        example = "openai:http://127.0.0.1:8000/v1#MODEL-NAME"
        if not model.strip():
            raise InputError(
                f"name the model after '#' in the URL, as in {example} (got {target!r})",
                field="model",
            )
        if not url.startswith(("http://", "https://")):
            raise InputError(
                f"the target must be an http(s) URL, as in {example} (got {url!r})", field="model"
            )
        key_env = options.pop("api_key_env", None)
        if key_env is not None and not os.environ.get(key_env):
            raise InputError(f"the environment variable {key_env} is not set", field="model-arg")
        backend = cls(
            url,
            model.strip(),
            concurrency=option_int(options, "concurrency", 4, minimum=1),
            timeout=option_float(options, "timeout", 60.0),
            retries=option_int(options, "retries", 5),
            backoff=option_float(options, "backoff", 0.5),
            api_key_env=key_env or "OPENAI_API_KEY",
        )
        reject_unknown(options, cls.name)
        if backend.timeout <= 0 or backend.backoff < 0:
            raise InputError("timeout must be positive and backoff not negative", field="model-arg")
        return backend

    def identity(self) -> dict[str, Any]:
        # none of the options changes an answer, so none belongs in the cache key
        return {"backend": self.name, "base_url": self.base_url, "model": self.model}

    def __repr__(self) -> str:
        auth = f"key from ${self.api_key_env}" if self.__api_key else "no key"
        return f"OpenAIBackend({self.base_url!r}, model={self.model!r}, {auth})"

    # --- the two request kinds ------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikRequest], on_result: OnLoglik) -> None:
        scores: list[list[Continuation | None]] = [[None] * len(r.continuations) for r in requests]
        left = [len(r.continuations) for r in requests]

        def done(index: int, position: int, score: Continuation) -> None:
            scores[index][position] = score
            left[index] -= 1
            if left[index] == 0:  # a request is reported once, when all its choices are scored
                on_result(index, tuple(s for s in scores[index] if s is not None))

        jobs: list[Job] = []
        for index, request in enumerate(requests):
            if not request.continuations:
                on_result(index, ())
            for position, continuation in enumerate(request.continuations):
                jobs.append(self._loglik_job(index, position, request.context, continuation, done))
        self._run(jobs)

    def _loglik_job(
        self,
        index: int,
        position: int,
        context: str,
        continuation: str,
        done: Callable[[int, int, Continuation], None],
    ) -> Job:
        prompt = context + continuation

        async def job(client: httpx.AsyncClient) -> None:
            if not continuation:  # nothing to score: log P("") = 0
                done(index, position, Continuation(0.0, 0, True))
                return
            echo = await self._post(client, "/completions", self._echo_body(prompt), parse_echo)
            aligned = echo_is_aligned(echo, prompt)
            if aligned is None:  # this answer cannot tell: what does the server do in general?
                aligned = await self._server_is_aligned(client)
            self._aligned = aligned  # a property of the server: later answers need no probe
            try:
                if not aligned:
                    raise _Unsupported(MISALIGNED)
                score = score_echo(echo, context, prompt)
            except _Unsupported as exc:  # asking again would get the same answer
                raise self._error(self.base_url + "/completions", exc, 1) from None
            done(index, position, score)

        return job

    def _echo_body(self, prompt: str) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": prompt,
            "echo": True,
            "logprobs": 1,
            "max_tokens": 1,  # not 0: llama-cpp-python reads 0 as "no limit" and runs to n_ctx
            "temperature": 0,
        }

    async def _server_is_aligned(self, client: httpx.AsyncClient) -> bool:
        """Asked once, with a prompt whose greedy next token is certainly not the end of text."""
        async with self._probe_lock:
            if self._aligned is None:
                echo = await self._post(client, "/completions", self._echo_body(PROBE), parse_echo)
                verdict = echo_is_aligned(echo, PROBE)
                self._aligned = greedy_hits_say_aligned(echo) if verdict is None else verdict
        return self._aligned

    def generate(self, requests: Sequence[GenerateRequest], on_result: OnGeneration) -> None:
        self._run([self._generate_job(i, r, on_result) for i, r in enumerate(requests)])

    def _generate_job(self, index: int, request: GenerateRequest, on_result: OnGeneration) -> Job:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed,
        }
        if request.stop:  # some servers refuse an empty list
            body["stop"] = list(request.stop)
        if request.messages is not None:
            path = "/chat/completions"
            body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        else:
            path = "/completions"
            body["prompt"] = request.prompt

        async def job(client: httpx.AsyncClient) -> None:
            on_result(index, await self._post(client, path, body, parse_generation))

        return job

    # --- running: a pool of workers, retries, and the error that comes last ----------------------

    def _run(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._run_async(jobs))
            return
        # called from a running event loop (a notebook): asyncio.run refuses to nest, so our loop
        # runs on a helper thread while this one waits; on_result is never called concurrently
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, self._run_async(jobs)).result()

    async def _run_async(self, jobs: Sequence[Job]) -> None:
        # `concurrency` workers share one iterator of jobs: the same bound as a semaphore, and
        # stopping at a failure is just not taking the next job
        pending = iter(jobs)
        failures: list[Exception] = []
        self._probe_lock = asyncio.Lock()

        async def worker(client: httpx.AsyncClient) -> None:
            for job in pending:
                if failures:
                    return
                try:
                    await job(client)
                except Exception as exc:  # on_result's own errors too: same rule applies
                    failures.append(exc)
                    return

        headers = {"Authorization": f"Bearer {self.__api_key}"} if self.__api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency)
        # trust_env stays on: users behind a proxy configure it through the environment
        async with httpx.AsyncClient(
            headers=headers, timeout=self.timeout, limits=limits
        ) as client:
            await asyncio.gather(*(worker(client) for _ in range(min(self.concurrency, len(jobs)))))
        if failures:
            raise failures[0]

    async def _post(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any], parse: Callable[[Any], T]
    ) -> T:
        url = self.base_url + path
        attempts = self.retries + 1
        last = ""
        for attempt in range(1, attempts + 1):
            wait = min(MAX_BACKOFF_S, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1)
            try:
                # the whole exchange, not each socket read: a trickling server is a slow server
                async with asyncio.timeout(self.timeout):
                    response = await client.post(url, json=body)
            except (TimeoutError, httpx.TimeoutException):
                last = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:  # refused, reset, closed without an answer
                last = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        return parse(response.json())
                    except _Unsupported as exc:
                        raise self._error(url, exc, attempt) from None
                    except MALFORMED as exc:
                        last = f"malformed answer (HTTP {status}): {type(exc).__name__}: {exc}"
                elif status == 429 or status >= 500:
                    last = f"HTTP {status}: {self._snippet(response)}"
                    if status == 429:
                        wait = max(wait, retry_after(response))
                else:
                    problem = f"HTTP {status}: {self._snippet(response)}"
                    raise self._error(url, problem, attempt, status=status)
            if attempt < attempts:
                log.info("%s: %s; retry %d/%d in %.2f s", url, last, attempt, self.retries, wait)
                await asyncio.sleep(wait)
        raise self._error(url, last, attempts, retryable=True)

    def _snippet(self, response: httpx.Response) -> str:
        text = " ".join(response.text.split())
        if len(text) > SNIPPET_CHARS:  # error bodies may quote the request, prompt included
            text = text[:SNIPPET_CHARS] + "…"
        return self._redact(text) or "(empty body)"

    def _redact(self, text: str) -> str:
        return text.replace(self.__api_key, "***") if self.__api_key else text

    def _error(
        self,
        url: str,
        problem: str | _Unsupported,
        attempts: int,
        *,
        retryable: bool = False,
        status: int | None = None,
    ) -> BackendError:
        if isinstance(problem, _Unsupported):
            problem, _, hint = str(problem).partition("\t")
        elif status in (401, 403):
            hint = f"check the API key in ${self.api_key_env} (--model-arg api_key_env=NAME)"
        elif status == 404:
            hint = "check the base URL (it usually ends in /v1) and the model name after '#'"
        elif retryable:
            hint = (
                "check that the server is up; if it is only slow, raise --model-arg timeout= "
                "or retries=, or lower concurrency="
            )
        else:
            hint = "the server refused the request; its message says why"
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        detail = f"{url} (model {self.model!r}) failed after {tries}: {problem}. {hint}"
        extra = {"url": url, "attempts": attempts, "status": status}
        return BackendError(self._redact(detail), retryable=retryable, extra=extra)


def retry_after(response: httpx.Response) -> float:
    """Seconds asked by a ``Retry-After`` header (seconds or HTTP date), 0 if none, capped."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0
    if math.isnan(seconds):  # "nan" is a float to Python; min and max would pass it through
        return 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
