"""``llama``: a GGUF model file run in-process by llama-cpp-python (``palmares[llama]``).

Generation and chat go through ``llama_cpp.Llama`` (chat through the chat template stored in the
GGUF's metadata). Log-likelihoods go through a dedicated low-level context that decodes each
item's shared context once for all its choices, ``group`` items per call (``_llama_scoring``;
``group=1`` gives exactly the numbers of a from-scratch computation, at ~1.6× the time).

Tokenisation follows lm-evaluation-harness: trailing spaces of the context move to the
continuation, and a continuation's tokens are those of ``context + continuation`` after the
context's own tokens, so that scores are comparable with the peer's. An empty context starts from
the model's BOS token (EOS for models without BOS, as lm-eval does).

llama.cpp's own log (model loading, KV cache set-up: « llama_kv_cache_iswa: using full-size SWA
cache … », some of it at error level although nothing is wrong) goes through its log callback,
which ``verbose=False`` does not silence: :func:`route_llama_log` sends it where
``$PALMARES_LLAMA_LOG`` says — unset or empty: nowhere; ``stderr``: the terminal (``palmares
--verbose``); anything else: a file it is appended to.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from palmares.backends._base import Backend, OnGeneration, OnLoglik
from palmares.backends._llama_scoring import Encoded, ScoringContext
from palmares.backends._options import missing_extra, option_int, reject_unknown
from palmares.core import InputError
from palmares.core.requests import BackendError, GenerateRequest, Generation, LoglikRequest

#: where llama.cpp's log goes: unset or empty (nowhere), ``stderr``, or a file appended to
LOG_ENV = "PALMARES_LLAMA_LOG"
_log_callback: list[Any] = []  # the installed ctypes callback, kept alive (llama.cpp holds it)


def route_llama_log(llama_cpp: Any) -> bool:
    """Install the log callback of llama.cpp (process-wide) that follows ``$PALMARES_LLAMA_LOG``
    as it is now (re-read at each model load); whether the log goes to the terminal."""
    target = os.environ.get(LOG_ENV, "").strip()

    def write(level: int, text: bytes, user_data: Any) -> None:
        if not target:
            return
        line = text.decode("utf-8", "replace")
        try:
            if target == "stderr":
                sys.stderr.write(line)
                sys.stderr.flush()
            else:
                with open(target, "a", encoding="utf-8") as fh:
                    fh.write(line)
        except OSError:  # a log that cannot be written never stops a run
            pass

    callback = llama_cpp.llama_log_callback(write)
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    _log_callback[:] = [callback]
    return target == "stderr"


@cache
def file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a model file (memoised per path, size and modification time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


class LlamaBackend(Backend):
    name: ClassVar[str] = "llama"
    extra: ClassVar[str | None] = "llama"

    def __init__(self, path: Path, *, threads: int, n_ctx: int, group: int = 8) -> None:
        try:
            import llama_cpp
        except ImportError:
            raise missing_extra("llama-cpp-python", "llama") from None
        self.path = path
        self.threads, self.n_ctx, self.group = threads, n_ctx, group
        self._lib = llama_cpp.llama_cpp
        self._version = llama_cpp.__version__
        verbose = route_llama_log(llama_cpp)
        self.llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=verbose,  # else llama-cpp-python hides the loading log from the callback
        )
        self._scoring: ScoringContext | None = None
        stat = path.stat()
        # a descriptor's link (the sandbox reads the file through /proc/self/fd) is read as it
        # is: resolved, it would name a path the sandbox's user may not open
        where = path if path.is_relative_to("/proc/self/fd") else path.resolve()
        self._sha256 = file_sha256(str(where), stat.st_size, stat.st_mtime_ns)

    @classmethod
    def create(cls, target: str, options: dict[str, str]) -> LlamaBackend:
        path = Path(target).expanduser()
        if not path.is_file():
            raise InputError(f"model file not found: {target}", field="model")
        threads = option_int(options, "threads", os.cpu_count() or 1, minimum=1)
        n_ctx = option_int(options, "n_ctx", 2048, minimum=64)
        group = option_int(options, "group", 8, minimum=1)
        reject_unknown(options, cls.name)
        return cls(path, threads=threads, n_ctx=n_ctx, group=group)

    def identity(self) -> dict[str, Any]:
        # threads do not change answers; the library version and context layout can
        return {
            "backend": self.name,
            "model": self.path.stem,
            "file": self.path.name,
            "sha256": self._sha256,
            "llama_cpp_python": self._version,
            "n_ctx": self.n_ctx,
            "scoring": f"context once per item, each choice on the cached context, {self.group} "
            "items per decode; no flash attention",
        }

    @property
    def label(self) -> str:
        return self.path.stem

    # -- log-likelihood ----------------------------------------------------------------------

    def _tokens(self, text: str, *, bos: bool) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=bos, special=False))

    def encode(self, request: LoglikRequest) -> Encoded:
        """The tokens of a request's context and of each continuation (lm-eval's rule)."""
        context = request.context.rstrip()
        moved = request.context[len(context) :]  # trailing spaces go to each continuation
        ctx = self._tokens(context, bos=True) if context else []
        joint = bool(ctx)  # an empty context starts at BOS (or EOS), tokenised apart
        if not joint:
            ctx = [self._start_token()]
        conts: list[list[int]] = []
        for text in request.continuations:
            continuation = moved + text
            if joint:
                whole = self._tokens(context + continuation, bos=True)
            else:
                whole = ctx + self._tokens(continuation, bos=False)
            if whole[: len(ctx)] != ctx:  # the joint tokenisation merged across the boundary
                whole = ctx + self._tokens(continuation, bos=False)
            conts.append(whole[len(ctx) :])
        return Encoded(ctx, conts)

    def _start_token(self) -> int:
        if self.llm._model.add_bos_token():
            return int(self.llm.token_bos())
        return int(self.llm.token_eos())

    def loglikelihood(self, requests: Sequence[LoglikRequest], on_result: OnLoglik) -> None:
        if self._scoring is None:
            self._scoring = ScoringContext(
                self._lib,
                self.llm._model.model,
                n_ctx=self.n_ctx,
                streams=self.group,
                threads=self.threads,
            )
        # Groups are cut from the requests in the order given (the engine sorts them), so a
        # run resumed from the cache regroups the same way where whole groups were finished.
        for start in range(0, len(requests), self.group):
            chunk = requests[start : start + self.group]
            scores = self._scoring.score([self.encode(r) for r in chunk])
            for j, score in enumerate(scores):
                on_result(start + j, score)

    # -- generation --------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest], on_result: OnGeneration) -> None:
        for i, request in enumerate(requests):
            on_result(i, self._generate(request))

    def _generate(self, request: GenerateRequest) -> Generation:
        settings: dict[str, Any] = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stop": list(request.stop) or None,
            "seed": request.seed,
        }
        if request.messages is None:
            assert request.prompt is not None
            out: Any = self.llm.create_completion(request.prompt, **settings)
            text = out["choices"][0]["text"]
        else:
            if "tokenizer.chat_template" not in self.llm.metadata:
                raise BackendError(
                    f"{self.path.name} has no chat template in its metadata "
                    "(tokenizer.chat_template): use the generate protocol for this model"
                )
            messages: Any = [{"role": m.role, "content": m.content} for m in request.messages]
            out = self.llm.create_chat_completion(messages=messages, **settings)
            text = out["choices"][0]["message"]["content"] or ""
        return Generation(
            text=text,
            n_tokens=int(out.get("usage", {}).get("completion_tokens", 0)),
            finish_reason=str(out["choices"][0].get("finish_reason") or ""),
        )

    def close(self) -> None:
        if self._scoring is not None:
            self._scoring.close()
            self._scoring = None
        self.llm.close()
