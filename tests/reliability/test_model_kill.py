"""A worker killed with ``kill -9`` at random points of a model evaluation (a submitted GGUF
file, SmolLM2, run in the sandbox), again and again: no finished answer is lost or asked again,
the sandboxed model process dies with its worker, the submission is scored exactly once, and its
scores equal those of the same file evaluated without interruption.

The answers go to the submission's own response cache as they arrive
(``<artifacts>/runs/<submission>.sqlite``); a killed worker's job is claimed again when its
1 s lease runs out, and the next worker resumes from the cache. A second submission of the same
file, evaluated by a worker nobody kills, is the reference.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from tests.campaigns.conftest import campaign_for_task, join, pin_partition_seed
from tests.reliability.conftest import wait_until
from tests.reliability.test_crash_safety import _alive, _kill, _worker

from palmares.campaigns import Artifacts, create_campaign, run_one, submit_model_file
from palmares.store import Job, ScoreRecord, migrate, open_engine, sessions
from palmares.store.models import AuditEvent
from palmares.testing import smollm2_gguf

pytest.importorskip("llama_cpp", reason='needs pip install "palmares[dev]"')

ITEMS = 300  # answers arrive in groups of 8 items: enough for every kill to land mid-run
KILLS = 17  # kills after the model has answered something (inside the evaluation)
EARLY = 3  # kills at a random moment of a worker's life (start-up, claim, loading the model)
SEED = int(os.environ.get("PALMARES_CRASH_SEED", "0")) or random.SystemRandom().randrange(10**6)

TASK = """id: calcul-mc
version: 1
title: "Calcul (choix multiple)"
language: fr
license: CC0-1.0
dataset:
  splits: {dev: dev.jsonl, test: test.jsonl}
  format: jsonl
  id_field: id
protocol:
  type: multiple_choice
  context: "Question : combien font {{ a }} plus {{ b }} ?\\nRéponse :"
  choice_fields: [c0, c1, c2, c3]
  answer_field: answer
metrics: [acc, acc_norm]
"""


def _task(folder: Path) -> None:
    rng = random.Random(7)
    for split, n in (("dev", 8), ("test", ITEMS)):
        rows = []
        for i in range(n):
            a, b = rng.randint(2, 60), rng.randint(2, 60)
            choices = [a + b, a + b + rng.randint(1, 9), abs(a - b), a * 2 + 1]
            rng.shuffle(choices)
            rows.append({"id": f"{split}{i:04d}", "a": a, "b": b, "answer": choices.index(a + b),
                         **{f"c{k}": str(c) for k, c in enumerate(choices)}})  # fmt: skip
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "task.yaml").write_text(TASK, "utf-8")


def _answers(cache: Path) -> dict[str, float]:
    """The cached answers: key → when it was written (a rewrite would change it)."""
    if not cache.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=5) as db:
            return dict(db.execute("SELECT key, created FROM responses").fetchall())
    except sqlite3.OperationalError:  # the table is not made yet
        return {}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_kill_9_during_a_model_evaluation_loses_nothing_and_scores_once(tmp_path: Path) -> None:
    print(f"seed {SEED} (PALMARES_CRASH_SEED replays it)")
    rng = random.Random(SEED)
    _task(tmp_path)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = open_engine(url)
    migrate(engine)
    db = sessions(engine)
    campaign = campaign_for_task(tmp_path, public_split="dev", accepts=("model_file",))
    pin_partition_seed(db, create_campaign(db, campaign), "calcul-mc")
    artifacts = Artifacts(tmp_path / "artifacts")
    token = join(db, "alice", "lab-a")
    killed_sid = submit_model_file(db, artifacts, token, 1, "calcul-mc", smollm2_gguf())
    # this test is about resuming, not the poison-job policy: a kill often lands before a
    # heartbeat has reported the answers kept (jobs.progress), so attempts would run out
    with db.begin() as s:
        s.execute(update(Job).values(max_attempts=1000))
    cache = tmp_path / "artifacts" / "runs" / f"{killed_sid}.sqlite"

    seen: dict[str, float] = {}
    landed = {"early": 0, "mid-run": 0}
    log = tmp_path / "worker.log"
    for round_ in range(KILLS + EARLY):
        pid = _worker(url, tmp_path, log)
        if round_ % 7 == 6:  # anywhere in its life
            time.sleep(rng.uniform(0.0, 2.0))
            where = "early"
        else:  # after the model has given k more answers
            base, k = len(seen), rng.randint(1, 12)
            assert wait_until(
                lambda n=base + k: len(_answers(cache)) >= n,  # type: ignore[misc]
                120,
            ), log.read_text()[-3000:]
            time.sleep(rng.uniform(0.0, 0.3))
            where = "mid-run"
        assert _alive(pid), log.read_text()[-3000:]
        sandboxes = _children(pid)
        _kill(pid)
        landed[where] += 1
        # the model's process dies with its worker (PR_SET_PDEATHSIG), nothing left running
        assert wait_until(lambda pids=sandboxes: all(_gone(c) for c in pids), 10), sandboxes
        now = _answers(cache)
        lost = [k for k in seen if k not in now]
        rewritten = [k for k, at in seen.items() if k in now and now[k] != at]
        assert not lost and not rewritten, (round_, len(lost), len(rewritten))
        seen = now
        with db() as s:
            assert s.scalar(select(func.count()).select_from(ScoreRecord)) == 0, "finished early"
    print(f"kills: {landed}; answers cached when the last one landed: {len(seen)} of {ITEMS}")
    assert landed["mid-run"] >= KILLS and sum(landed.values()) >= 20 and 0 < len(seen) < ITEMS

    # the same file again, evaluated by a worker nobody kills: the reference
    reference_sid = submit_model_file(db, artifacts, token, 1, "calcul-mc", smollm2_gguf())
    while run_one(db, artifacts, lease_s=30) is not None:
        pass
    final = _answers(cache)
    assert all(final[k] == at for k, at in seen.items())  # finished answers never asked again
    assert len(final) == ITEMS
    with db() as s:
        scores = {r.submission_id: r for r in s.scalars(select(ScoreRecord))}
        audit = [e.payload for e in s.scalars(select(AuditEvent))]
        jobs = {j.submission_id: (j.status, j.attempts) for j in s.scalars(select(Job))}
    assert set(scores) == {killed_sid, reference_sid}
    scored = [p["submission"] for p in audit if p.get("submission") and "status" in p]
    assert scored.count(killed_sid) == 1 and scored.count(reference_sid) == 1
    assert jobs[killed_sid][0] == "done" and jobs[reference_sid] == ("done", 1)
    killed, reference = scores[killed_sid], scores[reference_sid]
    for part in ("public", "private"):
        a = json.dumps(getattr(killed, part), sort_keys=True)
        b = json.dumps(getattr(reference, part), sort_keys=True)
        assert a == b, part
    print(f"attempts of the killed submission: {jobs[killed_sid][1]}; "
          f"accuracy {reference.private['scores']['acc']['value']:.3f}")  # fmt: skip
