"""lm-evaluation-harness side of bench/vs_lm_eval_bias.py: crows_pairs_french and bbq.

Run with the lm-eval venv's python (bench/.lm-eval-venv/bin/python), not the Palmarès one:
    run_bias.py --gguf PATH --out result.json [--crows TSV] [--bbq DIR] [--batch-size B]

Loads the GGUF once with lm-eval's `hf` backend (transformers dequantises it to torch weights; CPU,
2 threads), then scores each task given, one `simple_evaluate` each so that each is timed apart:

* ``--crows TSV``: lm-eval's ``crows_pairs_french`` on a local French CrowS-Pairs TSV
  (crows_pairs_fr_task/: its prompt and metrics, local documents);
* ``--bbq DIR``: lm-eval's ``bbq`` (multiple_choice) on the BBQ ``<Category>.jsonl`` files of a
  local folder (bbq_task/: the same).

Writes timings, lm-eval's metrics (with its stderrs), and per item the log-likelihoods, the chosen
answer and the token ids lm-eval fed (to compare tokenisations) as JSON.
"""

import argparse
import json
import math
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
CROWS = "crows_pairs_french_local"
BBQ = "bbq_local"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", required=True, help="path of the .gguf file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--crows", help="French CrowS-Pairs TSV (its pairs, all of them, are scored)")
    ap.add_argument("--bbq", help="folder of BBQ <Category>.jsonl files (all items are scored)")
    ap.add_argument("--batch-size", default="16", help="int; 16 was fastest for ARC-fr here")
    ap.add_argument("--dtype", default="float32", help="float32: what the GGUF dequantises to")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not args.crows and not args.bbq:
        ap.error("nothing to run: give --crows and/or --bbq")

    t_start = time.perf_counter()
    load_avg_start = os.getloadavg()[0]  # other jobs on the 2 cores skew every timing: record it
    import torch

    torch.set_num_threads(args.threads)
    import lm_eval
    import transformers
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    gguf = Path(args.gguf).resolve()
    batch_size = int(args.batch_size)
    model_args = {
        "pretrained": str(gguf.parent),  # folder + gguf_file: model AND tokenizer from the GGUF
        "gguf_file": gguf.name,
        "device": "cpu",
        "dtype": args.dtype,
        "batch_size": batch_size,
    }
    t0 = time.perf_counter()
    lm = HFLM(**model_args)
    load_s = time.perf_counter() - t0

    timing = {"run_s": 0.0, "requests": 0}
    inner = lm.loglikelihood

    def timed_loglikelihood(requests, *a, **kw):
        t = time.perf_counter()
        out = inner(requests, *a, **kw)
        timing["run_s"] += time.perf_counter() - t
        timing["requests"] += len(requests)
        return out

    lm.loglikelihood = timed_loglikelihood
    metadata = {}
    if args.crows:
        metadata["crows_pairs_fr_path"] = str(Path(args.crows).resolve())
    if args.bbq:
        metadata["bbq_dir"] = str(Path(args.bbq).resolve())
    task_manager = TaskManager(
        include_path=[str(HERE / "crows_pairs_fr_task"), str(HERE / "bbq_task")],
        metadata=metadata,
    )

    tasks = {}
    for name, wanted, per_item in ((CROWS, args.crows, _crows_item), (BBQ, args.bbq, _bbq_item)):
        if not wanted:
            continue
        timing.update(run_s=0.0, requests=0)
        load_avg = os.getloadavg()[0]
        t1 = time.perf_counter()
        results = lm_eval.simple_evaluate(
            model=lm,
            tasks=[name],
            task_manager=task_manager,
            num_fewshot=0,
            log_samples=True,
            batch_size=batch_size,
            device="cpu",
            random_seed=0,
            numpy_random_seed=0,
            torch_random_seed=0,
            fewshot_random_seed=0,
        )
        evaluate_s = time.perf_counter() - t1
        samples = sorted(results["samples"][name], key=lambda s: s["doc_id"])
        items = [per_item(lm, s) for s in samples]
        tasks[name] = {
            "metrics": {k: _num(v) for k, v in results["results"][name].items()},
            "run_s": timing["run_s"],  # loglikelihood calls only
            "requests": timing["requests"],
            "evaluate_s": evaluate_s,  # task build + scoring + metrics
            "load_avg_start_end": [load_avg, os.getloadavg()[0]],
            "n_items": len(items),
            "items": items,
        }
        print(
            f"{name}: {len(items)} items, {timing['requests']} requests in {timing['run_s']:.1f}s",
            file=sys.stderr,
        )

    out = {
        "harness": "lm-evaluation-harness",
        "lm_eval_version": _dist_version("lm_eval"),
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "gguf_version": _dist_version("gguf"),
        "python": platform.python_version(),
        "config": {
            "model": "hf",
            "model_args": model_args,
            "torch_threads": torch.get_num_threads(),
            "model_dtype": str(next(lm.model.parameters()).dtype),
            "add_bos_token": lm.add_bos_token,
            "prefix_token_id": lm.prefix_token_id,
            "data": metadata,
        },
        "load_s": load_s,
        "total_s": time.perf_counter() - t_start,  # imports + load + every task
        "load_avg_start_end": [load_avg_start, os.getloadavg()[0]],
        "tasks": tasks,
    }
    Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"load {load_s:.1f}s total {out['total_s']:.1f}s -> {args.out}", file=sys.stderr)


def _crows_item(lm, s):
    lls = [float(r[0]) for r in s["filtered_resps"]]
    pairs = [_request_pair(a) for a in s["arguments"]]
    return {
        "doc_id": s["doc_id"],
        "id": s["doc"]["id"],
        "loglik": lls,  # [sent_more, sent_less]
        "pct_stereotype": s["pct_stereotype"],
        "likelihood_diff": s["likelihood_diff"],
        "tokens": [_encode(lm, c, x) for c, x in pairs],  # [context ids, continuation ids]
    }


def _bbq_item(lm, s):
    from lm_eval.tasks.bbq.utils import doc_to_biased_answer, doc_to_choice, doc_to_targets

    doc = s["doc"]
    lls = [float(r[0]) for r in s["filtered_resps"]]
    pairs = [_request_pair(a) for a in s["arguments"]]
    encoded = [_encode(lm, c, x) for c, x in pairs]
    pred = max(range(len(lls)), key=lls.__getitem__)  # np.argmax: ties to the first
    return {
        "doc_id": s["doc_id"],
        "id": f"{doc['category']}-{doc['example_id']}",
        "context_condition": doc["context_condition"],
        "category": doc["category"],
        "choices": doc_to_choice(doc),  # the two people (file order), then 10 UNKNOWN wordings
        "loglik": lls,
        "pred": pred,
        "targets": doc_to_targets(doc),
        "biased": doc_to_biased_answer(doc),  # indices of lm-eval's biased answers
        "acc": s["acc"],
        "context_tokens": encoded[0][0],
        "continuation_tokens": [e[1] for e in encoded],
        "context": pairs[0][0],
    }


def _encode(lm, context, continuation):
    """The token ids lm-eval feeds for one request (lm_eval/api/model.py, loglikelihood)."""
    if context == "":
        cont = lm.tok_encode(continuation, add_special_tokens=False)
        if lm.prefix_token_id != cont[0]:
            return [lm.prefix_token_id], cont
        return cont[:1], cont[1:]
    return tuple(lm._encode_pair(context, continuation))


def _request_pair(arg):
    # lm-eval logs arguments either as a tuple or as {"gen_args_0": {"arg_0": ctx, "arg_1": cont}}
    if isinstance(arg, dict):
        arg = next(iter(arg.values())) if "arg_0" not in arg else arg
        return [arg["arg_0"], arg["arg_1"]]
    return list(arg)


def _num(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _dist_version(name):
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
