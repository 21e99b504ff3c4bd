"""Log-likelihood scoring on llama.cpp's low-level API: each shared context decoded once.

``Llama`` (the high-level class) computes either no logits or logits at every position. Scoring
multiple-choice items fast needs neither: the context is decoded once, together with the first
choice; every other choice is decoded on top of the context kept in the KV cache, after the
previous choice is dropped from it (``llama_memory_seq_rm``); logits are kept only at the rows the
scores need (the last context token, then each fed continuation token). With a 262k vocabulary a
kept logit row costs about as much as 1.5 tokens of the model body, so rows are counted as
carefully as tokens.

Each choice's tokens sit at the same cache positions as if it were decoded alone after the
context, so the scores equal a from-scratch computation (checked to 1e-7 nats in the tests).
Sharing the context between several sequences of a unified KV cache in one decode was measured
too: faster by ~7 %, but the second and later choices then moved by up to 0.9 nats on this build,
so it is not used. The cache is cleared before every item, so an item's numbers never depend on
the items before it: a run resumed after a crash gives the same results as one never stopped.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from palmares.core.requests import BackendError, Continuation


@dataclass(frozen=True)
class Encoded:
    """An item's tokens: the context (at least one token) and each continuation."""

    context: list[int]
    continuations: list[list[int]]


class ScoringContext:
    """A second llama.cpp context on the same weights, for scoring only."""

    def __init__(self, llama_cpp: Any, model: Any, *, n_ctx: int, threads: int) -> None:
        self._lib = llama_cpp
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_ctx  # a whole item in one decode
        params.n_ubatch = min(512, n_ctx)
        params.n_threads = threads
        params.n_threads_batch = threads
        params.no_perf = True
        # Flash attention on the CPU rounds through f16 and moves log-likelihoods by up to ~1
        # nat (measured, docs/design/llama-backend-notes.md); the plain path is the precise one,
        # and the one llama-cpp-python's Llama and its server use by default.
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self._ctx = llama_cpp.llama_init_from_model(model, params)
        if not self._ctx:
            raise BackendError("llama.cpp could not create a scoring context (out of memory?)")
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        self.n_ctx = n_ctx
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model)))

    def score(self, item: Encoded) -> tuple[Continuation, ...]:
        """Decode the context with the first continuation, read its rows, then for each other
        continuation drop the previous one from the cache and decode it on the kept context."""
        ctx, conts = item.context, item.continuations
        n = len(ctx)
        longest = n + max((len(c) - 1 for c in conts), default=0)
        if longest > self.n_ctx:
            raise BackendError(
                f"an item needs {longest} tokens of context, more than n_ctx={self.n_ctx}; "
                "raise it with --model-arg n_ctx=N"
            )
        self._lib.llama_memory_clear(self._mem, False)
        out: list[Continuation] = []
        first_row: NDArray[np.float32] | None = None
        for c, cont in enumerate(conts):
            fed = cont[:-1]  # a continuation's last token is predicted, never fed
            if c == 0:
                tokens = np.asarray(ctx + fed, dtype=np.int32)
                keep = np.zeros(tokens.size, dtype=np.int8)
                keep[n - 1 :] = 1  # the last context token's row predicts the first token
                logits = self._decode(tokens, np.arange(tokens.size, dtype=np.int32), keep)
                first_row = logits[0].copy()
                rows = logits
            else:
                if not self._lib.llama_memory_seq_rm(self._mem, 0, n, -1):
                    raise BackendError("llama.cpp could not drop a continuation from its cache")
                assert first_row is not None
                if fed:
                    tokens = np.asarray(fed, dtype=np.int32)
                    keep = np.ones(tokens.size, dtype=np.int8)
                    positions = np.arange(n, n + tokens.size, dtype=np.int32)
                    rows = np.concatenate([first_row[None], self._decode(tokens, positions, keep)])
                else:
                    rows = first_row[None]
            logprobs, greedy = _token_logprobs(rows, np.asarray(cont, dtype=np.int64))
            out.append(Continuation(float(logprobs.sum()), len(cont), bool(greedy.all())))
        return tuple(out)

    def _decode(
        self, tokens: NDArray[np.int32], pos: NDArray[np.int32], keep: NDArray[np.int8]
    ) -> NDArray[np.float32]:
        """Decode ``tokens`` in sequence 0; the logits of the rows flagged in ``keep``."""
        lib = self._lib
        seq = np.zeros(tokens.size, dtype=np.int32)
        n_seq_id = np.ones(tokens.size, dtype=np.int32)
        batch = lib.llama_batch()
        batch.n_tokens = int(tokens.size)
        batch.token = tokens.ctypes.data_as(ctypes.POINTER(lib.llama_token))
        batch.embd = None
        batch.pos = pos.ctypes.data_as(ctypes.POINTER(lib.llama_pos))
        batch.n_seq_id = n_seq_id.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        one = ctypes.cast(seq.ctypes.data, ctypes.POINTER(lib.llama_seq_id))
        batch.seq_id = (ctypes.POINTER(lib.llama_seq_id) * tokens.size)(*([one] * tokens.size))
        batch.logits = keep.ctypes.data_as(ctypes.POINTER(ctypes.c_int8))
        status = lib.llama_decode(self._ctx, batch)
        if status != 0:
            raise BackendError(f"llama.cpp decode failed (status {status})")
        n_rows = int(keep.sum())
        return np.ctypeslib.as_array(lib.llama_get_logits(self._ctx), shape=(n_rows, self.n_vocab))

    def close(self) -> None:
        if self._ctx:
            self._lib.llama_free(self._ctx)
            self._ctx = None


def _token_logprobs(
    rows: NDArray[np.float32], targets: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """log-softmax of each row at its target token, and whether the target is the row's argmax.

    The sum of exponentials over the vocabulary (262k terms for Gemma) is taken in float64.
    """
    peak = rows.max(axis=1)
    shifted = rows - peak[:, None]
    np.exp(shifted, out=shifted)
    lse = peak.astype(np.float64) + np.log(shifted.sum(axis=1, dtype=np.float64))
    chosen = rows[np.arange(targets.size), targets]
    return chosen.astype(np.float64) - lse, chosen >= peak
