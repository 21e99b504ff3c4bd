"""lm-evaluation-harness side of bench/vs_lm_eval.py.

Run with the lm-eval venv's python (bench/.lm-eval-venv/bin/python), not the Palmarès one:
    run.py --gguf PATH --items N --out result.json [--batch-size B] [--dtype D]

Scores the first N ARC-fr items with lm-eval's `hf` backend, which loads the GGUF through
transformers (dequantised to torch weights), on CPU, 2 threads, and writes timings, metrics and
per-item log-likelihoods as JSON.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# Everything is local: no hub look-ups (there is no hub access here anyway).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
TASK = "arc_fr_local"
DEFAULT_DATA = "/work/shared/data/okapi_fr/m_arc_fr_test.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", required=True, help="path of the .gguf file")
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--batch-size",
        default="16",
        help="int; 8 and 16 were fastest here, auto is OOM-killed on CPU",
    )
    ap.add_argument(
        "--dtype", default="float32", help="float32 (what GGUF dequantises to) or bfloat16"
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=DEFAULT_DATA, help="okapi m_arc_fr_test.json (read in place)")
    args = ap.parse_args()

    t_start = time.perf_counter()
    load_avg_start = os.getloadavg()  # other processes on the 2 cores skew every timing: record it
    import torch

    torch.set_num_threads(args.threads)
    import lm_eval
    import transformers
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    gguf = Path(args.gguf).resolve()
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    model_args = {
        "pretrained": str(
            gguf.parent
        ),  # folder + gguf_file: transformers reads model AND tokenizer from the GGUF
        "gguf_file": gguf.name,
        "device": "cpu",
        "dtype": args.dtype,
        "batch_size": batch_size,
    }

    # Build the model ourselves (same object `model="hf"` would build) so that load time is
    # measured apart from scoring.
    t0 = time.perf_counter()
    lm = HFLM(**model_args)
    load_s = time.perf_counter() - t0

    # Time the scoring proper: wrap loglikelihood (the only request type of this task).
    timing = {"run_s": 0.0, "requests": 0}
    inner = lm.loglikelihood

    def timed_loglikelihood(requests, *a, **kw):
        t = time.perf_counter()
        out = inner(requests, *a, **kw)
        timing["run_s"] += time.perf_counter() - t
        timing["requests"] += len(requests)
        return out

    lm.loglikelihood = timed_loglikelihood

    task_manager = TaskManager(
        include_path=str(HERE / "arc_fr_task"), metadata={"arc_fr_path": args.data}
    )
    t1 = time.perf_counter()
    results = lm_eval.simple_evaluate(
        model=lm,
        tasks=[TASK],
        task_manager=task_manager,
        num_fewshot=0,
        limit=args.items,
        log_samples=True,
        batch_size=batch_size,
        device="cpu",
        random_seed=0,
        numpy_random_seed=0,
        torch_random_seed=0,
        fewshot_random_seed=0,
    )
    evaluate_s = time.perf_counter() - t1
    total_s = time.perf_counter() - t_start

    metrics = results["results"][TASK]
    items = []
    for s in sorted(results["samples"][TASK], key=lambda s: s["doc_id"]):
        lls = [float(r[0]) for r in s["filtered_resps"]]
        choices = s["doc"]["choices"]
        # lm-eval divides by len(option), the delimiter excluded
        norm = [ll / len(c) for ll, c in zip(lls, choices, strict=True)]
        items.append(
            {
                "doc_id": s["doc_id"],
                "id": s["doc"]["id"],
                "gold": s["target"],
                "loglik": lls,
                "pred": max(range(len(lls)), key=lls.__getitem__),
                "pred_norm": max(range(len(norm)), key=norm.__getitem__),
                "acc": s["acc"],
                "acc_norm": s["acc_norm"],
                # exact (context, continuation) strings lm-eval scored, for checking the format
                "requests": [_request_pair(a) for a in s["arguments"]],
            }
        )

    out = {
        "harness": "lm-evaluation-harness",
        "lm_eval_version": lm_eval.__version__
        if hasattr(lm_eval, "__version__")
        else _dist_version("lm_eval"),
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "gguf_version": _dist_version("gguf"),
        "python": platform.python_version(),
        "config": {
            "model": "hf",
            "model_args": model_args,
            "task": TASK,
            "items": args.items,
            "num_fewshot": 0,
            "torch_threads": torch.get_num_threads(),
            "model_dtype": str(next(lm.model.parameters()).dtype),
            "batch_size_used": str(lm.batch_size),
            "add_bos_token": lm.add_bos_token,
            "context_format": "Question : {question}\\nRéponse :",
            "continuation_format": '" " + option',
            "acc_norm": "argmax(loglik / len(option)), the leading space not counted",
            "data": args.data,
        },
        "load_s": load_s,
        "run_s": timing["run_s"],
        "evaluate_s": evaluate_s,  # simple_evaluate as a whole: task build + scoring + metrics
        "total_s": total_s,  # imports + load + evaluate
        "requests": timing["requests"],
        "requests_per_s": timing["requests"] / timing["run_s"] if timing["run_s"] else None,
        "load_avg_start_end": [load_avg_start[0], os.getloadavg()[0]],
        "n_items": len(items),
        "acc": metrics["acc,none"],
        "acc_stderr": metrics.get("acc_stderr,none"),
        "acc_norm": metrics["acc_norm,none"],
        "acc_norm_stderr": metrics.get("acc_norm_stderr,none"),
        "items": items,
    }
    Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(
        f"load {load_s:.1f}s run {timing['run_s']:.1f}s ({out['requests_per_s']:.2f} req/s) "
        f"total {total_s:.1f}s acc {out['acc']:.3f} acc_norm {out['acc_norm']:.3f} -> {args.out}",
        file=sys.stderr,
    )


def _request_pair(arg):
    # lm-eval logs arguments either as a tuple or as {"gen_args_0": {"arg_0": ctx, "arg_1": cont}}
    if isinstance(arg, dict):
        arg = next(iter(arg.values())) if "arg_0" not in arg else arg
        return [arg["arg_0"], arg["arg_1"]]
    return list(arg)


def _dist_version(name):
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
