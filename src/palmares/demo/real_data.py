"""The demo's real-data tasks, when a local copy of the public data is at hand: seeded samples
of CrowS-Pairs-fr and BBQ, written under the demo's own folder (never into the project), so the
demo stays within minutes. Without the data, the demo says which tasks it skipped and why."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import yaml

PACK = Path(__file__).resolve().parents[1] / "packs" / "fr"
CROWS_PAIRS = 200  # of 1,677 pairs
BBQ_PER_CATEGORY = 20  # half ambiguous, half disambiguated, per local category
SEED = 20261126


def _task_copy(name: str, folder: Path, dataset: dict[str, object]) -> Path:
    spec = yaml.safe_load((PACK / name / "task.yaml").read_text("utf-8"))
    spec["dataset"] = {**{k: v for k, v in spec["dataset"].items() if k != "local"}, **dataset}
    spec["description"] = f"Demo sample ({folder.name}) of the pack task {name}: " + str(
        spec["description"]
    )
    target = folder / name
    target.mkdir(parents=True, exist_ok=True)
    path = target / "task.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _crows_pairs(data: Path, folder: Path) -> Path:
    source = data / "crows_pairs_fr" / "crows_pairs_FR_languagearc_contribution+210.tsv"
    with source.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    header, body = rows[0], rows[1:]
    sample = sorted(random.Random(SEED).sample(range(len(body)), CROWS_PAIRS))
    out = folder / "data" / "crows_pairs_sample.tsv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writerow(header)
        writer.writerows(body[i] for i in sample)
    return _task_copy("crows-pairs-fr", folder, {"path": str(out), "format": "tsv"})


def _bbq(data: Path, folder: Path) -> Path:
    out = folder / "data" / "bbq"
    out.mkdir(parents=True, exist_ok=True)
    draw = random.Random(SEED)
    for source in sorted((data / "bbq").glob("*.jsonl")):
        lines = source.read_text("utf-8").splitlines()
        kept = []
        for condition in ("ambig", "disambig"):
            these = [x for x in lines if json.loads(x)["context_condition"] == condition]
            kept += draw.sample(these, min(len(these), BBQ_PER_CATEGORY // 2))
        (out / source.name).write_text("\n".join(kept) + "\n", "utf-8")
    return _task_copy("bbq", folder, {"path": str(out)})


def real_data_tasks(data_dir: Path | None, folder: Path) -> tuple[list[Path], list[str]]:
    """Task files of the real-data samples, and a line per task skipped with its reason.
    Relative folders (``make demo``'s ``../shared/data`` and ``runs/demo``) are made absolute
    first: the task files written mean the same files from wherever they are read."""
    folder = folder.resolve()
    data_dir = None if data_dir is None else data_dir.resolve()
    wanted = {
        "crows-pairs-fr": ("crows_pairs_fr", _crows_pairs),
        "bbq": ("bbq", _bbq),
    }
    made: list[Path] = []
    skipped: list[str] = []
    for name, (sub, build) in wanted.items():
        if data_dir is None:
            skipped.append(
                f"{name}: no local copy of the public data (set PALMARES_DATA_DIR or --data-dir)"
            )
        elif not (data_dir / sub).is_dir():
            skipped.append(f"{name}: {data_dir / sub} not found")
        else:
            made.append(build(data_dir, folder))
    return made, skipped
