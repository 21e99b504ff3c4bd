"""Bench: Palmarès against lm-evaluation-harness on the same GGUF and the same 100 ARC-fr items.

Goals (issue #3): the same chosen answers on ≥ 95 % of items (numerics differ: llama.cpp's
quantised kernels against transformers' dequantised fp32), overlapping accuracy intervals,
end-to-end wall time including model load ≥ 3× faster, steady-state items/s ≥ 2×, and Palmarès's
scoring time ≤ 1.3× the floor — llama.cpp decoding the same unique tokens (each shared context
once) in full batches, logits kept only at the rows the scores need, timed here in the same run.

lm-eval runs in its own virtual environment (``bash bench/lm_eval_side/setup.sh`` once), in its
fastest working configuration here: ``--model hf`` loading the GGUF through transformers, batch 16,
float32 (see bench/lm_eval_side). Both sides run one after the other, never at the same time.

Usage, from the repository root (ARC-fr is CC BY-NC: it is read in place from ../shared/data)::

    .venv/bin/python bench/vs_lm_eval.py [--items 100] [--skip-lm-eval RESULT.json]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "okapi_fr"
LM_EVAL_PY = ROOT / "bench" / ".lm-eval-venv" / "bin" / "python"
TASK = """
id: arc-fr
version: 1
title: ARC-Challenge fr
language: fr
license: CC-BY-NC-4.0
dataset: {path: DATA/m_arc_fr_test.json, format: json, id_field: id}
protocol:
  type: multiple_choice
  context: "Question : {{ instruction }}\\nRéponse :"
  choice_fields: [option_a, option_b, option_c, option_d]
  answer_field: answer
metrics: [acc, acc_norm]
"""


def run_palmares(gguf: Path, n: int, threads: int, group: int) -> dict:
    from palmares import load_task
    from palmares.backends import load_model
    from palmares.engine import evaluate

    folder = Path(tempfile.mkdtemp())
    (folder / "task.yaml").write_text(TASK.replace("DATA", str(DATA)), "utf-8")
    start = time.perf_counter()
    task = load_task(folder / "task.yaml")
    model = load_model(f"llama:{gguf}", {"threads": str(threads), "group": str(group)})
    loaded = time.perf_counter()
    result = evaluate(task, model, limit=n)  # no cache: everything computed
    end = time.perf_counter()
    encoded = [model.encode(r) for r in _requests(task, n)]
    model.close()
    logliks = [p["logliks"] for p in result.predictions]
    return {
        "load_s": loaded - start,
        "run_s": result.extra["run"]["seconds"],
        "total_s": end - start,
        "pred": [int(np.argmax(x)) for x in logliks],
        "pred_norm": [
            int(np.argmax(np.asarray(x) / np.asarray(p["chars"])))
            for x, p in zip(logliks, result.predictions, strict=True)
        ],
        "gold": _gold(task, n),
        "encoded": encoded,
    }


def _requests(task, n):  # type: ignore[no-untyped-def]
    from palmares.engine.protocols import protocol_for

    return protocol_for(task, "test").requests(task.items("test").head(n))


def _gold(task, n):  # type: ignore[no-untyped-def]
    from palmares.engine.protocols import protocol_for

    items = task.items("test").head(n)
    return protocol_for(task, "test").scored_items(items).references


def floor_seconds(
    gguf: Path, encoded: list, threads: int, batch: int = 512
) -> tuple[float, int, int]:
    """llama.cpp decoding each item's unique tokens (context once, each continuation's fed
    tokens) packed into full batches, logits only at the rows the scores need: decode calls only.

    Each item is one sequence of a unified cache (its choices laid end to end: the same number of
    tokens and rows as scoring it, attention spans within a few tokens of it)."""
    import llama_cpp
    import llama_cpp.llama_cpp as L

    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=256, verbose=False)
    params = L.llama_context_default_params()
    params.n_ctx = 8192
    params.n_batch = params.n_ubatch = batch
    params.n_seq_max = 64
    params.kv_unified = True
    params.n_threads = params.n_threads_batch = threads
    params.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    ctx = L.llama_init_from_model(llm._model.model, params)
    mem = L.llama_get_memory(ctx)
    streams = []
    for enc in encoded:
        tokens = list(enc.context) + [t for c in enc.continuations for t in c[:-1]]
        keep = [0] * (len(enc.context) - 1) + [1] + [1] * (len(tokens) - len(enc.context))
        streams.append((tokens, keep))
    batches, current, size = [], [], 0
    for stream in streams:
        if size + len(stream[0]) > batch or len(current) == 64:
            batches.append(current)
            current, size = [], 0
        current.append(stream)
        size += len(stream[0])
    batches.append(current)
    prepared = []
    for group in batches:
        tok = np.concatenate([np.asarray(t, dtype=np.int32) for t, _ in group])
        pos = np.concatenate([np.arange(len(t), dtype=np.int32) for t, _ in group])
        seq = np.concatenate([np.full(len(t), s, dtype=np.int32) for s, (t, _) in enumerate(group)])
        keep = np.concatenate([np.asarray(k, dtype=np.int8) for _, k in group])
        prepared.append((tok, pos, seq, keep))
    tokens = sum(p[0].size for p in prepared)
    rows = int(sum(p[3].sum() for p in prepared))
    start = time.perf_counter()
    for tok, pos, seq, keep in prepared:
        L.llama_memory_clear(mem, False)
        b = L.llama_batch()
        b.n_tokens = tok.size
        b.token = tok.ctypes.data_as(ctypes.POINTER(L.llama_token))
        b.embd = None
        b.pos = pos.ctypes.data_as(ctypes.POINTER(L.llama_pos))
        n_seq = np.ones(tok.size, dtype=np.int32)
        b.n_seq_id = n_seq.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
        ptrs = [
            ctypes.cast(seq.ctypes.data + 4 * i, ctypes.POINTER(L.llama_seq_id))
            for i in range(tok.size)
        ]
        b.seq_id = (ctypes.POINTER(L.llama_seq_id) * tok.size)(*ptrs)
        b.logits = keep.ctypes.data_as(ctypes.POINTER(ctypes.c_int8))
        assert L.llama_decode(ctx, b) == 0
    elapsed = time.perf_counter() - start
    L.llama_free(ctx)
    llm.close()
    return elapsed, tokens, rows


def run_lm_eval(gguf: Path, n: int, threads: int) -> dict:
    if not LM_EVAL_PY.exists():
        sys.exit("lm-eval's venv is missing: bash bench/lm_eval_side/setup.sh")
    out = Path(tempfile.mkdtemp()) / "lm_eval.json"
    start = time.perf_counter()
    subprocess.run(
        [
            str(LM_EVAL_PY),
            str(ROOT / "bench" / "lm_eval_side" / "run.py"),
            "--gguf",
            str(gguf),
            "--items",
            str(n),
            "--out",
            str(out),
            "--threads",
            str(threads),
        ],
        check=True,
    )
    data = json.loads(out.read_text("utf-8"))
    data["wall_s"] = time.perf_counter() - start  # includes the interpreter and imports
    return data


def wilson(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return ci.low, ci.high


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--group", type=int, default=8, help="items per decode (llama backend)")
    ap.add_argument("--skip-lm-eval", metavar="JSON", help="reuse an lm-eval result file")
    args = ap.parse_args()
    from palmares.testing import gemma_gguf

    gguf = gemma_gguf()
    print(
        f"model {gguf.name} · {args.items} ARC-fr items · {args.threads} threads · "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    ours = run_palmares(gguf, args.items, args.threads, args.group)
    floor, tokens, rows = floor_seconds(gguf, ours["encoded"], args.threads)
    if args.skip_lm_eval:
        peer = json.loads(Path(args.skip_lm_eval).read_text("utf-8"))
        peer.setdefault("wall_s", peer["total_s"])
    else:
        peer = run_lm_eval(gguf, args.items, args.threads)
    n = args.items
    peer_pred = [it["pred"] for it in peer["items"]]
    peer_norm = [it["pred_norm"] for it in peer["items"]]
    gold = ours["gold"]
    assert [it["gold"] for it in peer["items"]] == gold, "the two sides score different items"
    same = np.mean(np.asarray(peer_pred) == np.asarray(ours["pred"]))
    same_norm = np.mean(np.asarray(peer_norm) == np.asarray(ours["pred_norm"]))
    rows_out = [
        ("chosen answers in common (acc)", f"{same:.1%}", "≥ 95 %"),
        ("chosen answers in common (acc_norm)", f"{same_norm:.1%}", ""),
    ]
    for name, pred, peer_p in (
        ("acc", ours["pred"], peer_pred),
        ("acc_norm", ours["pred_norm"], peer_norm),
    ):
        k_ours = int(np.sum(np.asarray(pred) == gold))
        k_peer = int(np.sum(np.asarray(peer_p) == gold))
        lo1, hi1 = wilson(k_ours, n)
        lo2, hi2 = wilson(k_peer, n)
        overlap = "overlap" if max(lo1, lo2) <= min(hi1, hi2) else "NO OVERLAP"
        rows_out.append(
            (
                f"{name}: Palmarès / lm-eval",
                f"{k_ours / n:.3f} [{lo1:.3f}, {hi1:.3f}] / "
                f"{k_peer / n:.3f} [{lo2:.3f}, {hi2:.3f}]",
                overlap,
            )
        )
    e2e = peer["wall_s"] / ours["total_s"]
    steady = (n / ours["run_s"]) / (n / peer["run_s"])
    rows_out += [
        ("load s: Palmarès / lm-eval", f"{ours['load_s']:.2f} / {peer['load_s']:.1f}", ""),
        ("scoring s: Palmarès / lm-eval", f"{ours['run_s']:.1f} / {peer['run_s']:.1f}", ""),
        ("end-to-end speed-up (with load)", f"{e2e:.1f}×", "≥ 3×"),
        (
            "steady-state items/s ratio",
            f"{steady:.2f}× ({n / ours['run_s']:.2f} vs {n / peer['run_s']:.2f} items/s)",
            "≥ 2×",
        ),
        ("floor: decode only, full batches", f"{floor:.1f} s ({tokens} tokens, {rows} rows)", ""),
        ("Palmarès / floor", f"{ours['run_s'] / floor:.2f}×", "≤ 1.3×"),
    ]
    width = max(len(r[0]) for r in rows_out)
    for label, value, goal in rows_out:
        print(f"{label:<{width}}  {value}  {goal}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
