"""Log-likelihood scoring on llama.cpp's low-level API: each shared context decoded once.

``Llama`` (the high-level class) computes either no logits or logits at every position. Scoring
multiple-choice items fast needs neither: an item's context is decoded once, together with its
first choice; every other choice is decoded on top of the context kept in the KV cache, after the
previous choice is dropped from it (``llama_memory_seq_rm``); logits are kept only at the rows the
scores need (the last context token, then each fed continuation token). With a 262k vocabulary a
kept logit row costs about as much as 1.5 tokens of the model body, so rows are counted as
carefully as tokens.

Each decode call reads every weight (the 262k-row output matrix too), so small calls are costly:
``streams`` items are scored together, one sequence each in one pool of cells, in rounds (round
0: every item's context and first choice; round r: every item's choice r).

What the numbers depend on (measured with llama-cpp-python 0.3.36 on this CPU, see
docs/design/llama-backend-notes.md): an item decoded alone from cell 0 (``streams=1``) gets
exactly the log-likelihoods of a from-scratch computation of context + choice (to 1e-7 nats);
an item placed after other sequences' cells moves by up to ~0.5 nats (SmolLM2 and Gemma alike),
and Gemma's results also move with the number of tokens per call. Both are properties of
llama.cpp's kernels, not of this code. A group's layout depends only on the requests in it, and
groups are cut in a fixed order, so a resumed run reproduces an uninterrupted one.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
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
    """A second llama.cpp context on the same weights, for scoring only.

    It holds ``streams`` independent sequences (one KV stream each, ``kv_unified`` off), so that
    a group of items is scored together: round 0 decodes every item's context with its first
    choice in one call, round *r* every item's choice *r* on its kept context. Each decode call
    reads all the weights (the 262k-row output matrix too), so few large calls are much cheaper
    than one small call per choice.
    """

    def __init__(
        self, llama_cpp: Any, model: Any, *, n_ctx: int, streams: int, threads: int
    ) -> None:
        self._lib = llama_cpp
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * streams  # divided evenly between the streams
        params.n_batch = n_ctx * streams  # a whole round in one call
        params.n_ubatch = 512
        params.n_seq_max = streams
        params.kv_unified = True  # one pool of cells: rounds go in full ubatches
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
        self.streams = streams
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model)))

    def score(self, items: Sequence[Encoded]) -> list[tuple[Continuation, ...]]:
        """Scores of every continuation of up to ``streams`` items."""
        assert 0 < len(items) <= self.streams
        for item in items:
            longest = len(item.context) + max((len(c) - 1 for c in item.continuations), default=0)
            if longest > self.n_ctx:
                raise BackendError(
                    f"an item needs {longest} tokens of context, more than n_ctx={self.n_ctx}; "
                    "raise it with --model-arg n_ctx=N"
                )
        self._lib.llama_memory_clear(self._mem, False)
        out: list[list[Continuation]] = [[] for _ in items]
        first_rows: list[NDArray[np.float32] | None] = [None] * len(items)
        for r in range(max(len(item.continuations) for item in items)):
            parts = []  # (item, tokens, positions, keep) decoded this round
            for s, item in enumerate(items):
                if r >= len(item.continuations):
                    continue
                n = len(item.context)
                fed = item.continuations[r][:-1]  # the last token is predicted, never fed
                if r == 0:
                    keep = [0] * (n - 1) + [1] * (len(fed) + 1)  # last context row: 1st token
                    parts.append((s, item.context + fed, list(range(n + len(fed))), keep))
                else:
                    if not self._lib.llama_memory_seq_rm(self._mem, s, n, -1):
                        raise BackendError("llama.cpp could not drop a choice from its cache")
                    if fed:
                        parts.append((s, fed, list(range(n, n + len(fed))), [1] * len(fed)))
            logits = self._decode(parts) if parts else None
            at = 0
            rows_of = {}
            for s, _, _, keep in parts:
                count = sum(keep)
                assert logits is not None
                rows_of[s] = logits[at : at + count]
                at += count
            for s, item in enumerate(items):
                if r >= len(item.continuations):
                    continue
                cont = item.continuations[r]
                if r == 0:
                    rows = rows_of[s]
                    first_rows[s] = rows[0].copy()
                else:
                    first = first_rows[s]
                    assert first is not None
                    rows = (
                        np.concatenate([first[None], rows_of[s]]) if s in rows_of else first[None]
                    )
                logprobs, greedy = _token_logprobs(rows, np.asarray(cont, dtype=np.int64))
                out[s].append(Continuation(float(logprobs.sum()), len(cont), bool(greedy.all())))
        return [tuple(c) for c in out]

    def _decode(
        self, parts: list[tuple[int, list[int], list[int], list[int]]]
    ) -> NDArray[np.float32]:
        """Decode every part (its tokens in its stream); the logits of the rows kept, in order."""
        lib = self._lib
        tokens = np.asarray([t for p in parts for t in p[1]], dtype=np.int32)
        pos = np.asarray([x for p in parts for x in p[2]], dtype=np.int32)
        keep = np.asarray([k for p in parts for k in p[3]], dtype=np.int8)
        seq = np.asarray([p[0] for p in parts for _ in p[1]], dtype=np.int32)
        n_seq_id = np.ones(tokens.size, dtype=np.int32)
        batch = lib.llama_batch()
        batch.n_tokens = int(tokens.size)
        batch.token = tokens.ctypes.data_as(ctypes.POINTER(lib.llama_token))
        batch.embd = None
        batch.pos = pos.ctypes.data_as(ctypes.POINTER(lib.llama_pos))
        batch.n_seq_id = n_seq_id.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        size = seq.itemsize
        batch.seq_id = (ctypes.POINTER(lib.llama_seq_id) * tokens.size)(
            *(
                ctypes.cast(seq.ctypes.data + i * size, ctypes.POINTER(lib.llama_seq_id))
                for i in range(tokens.size)
            )
        )
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
