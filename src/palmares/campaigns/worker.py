"""The worker: claim a job, score its submission, record the scores once.

While it scores, a heartbeat thread extends the job's lease; if the process dies (``kill -9``),
the lease runs out and another worker claims the job again. The scores and the job's end are
written in one transaction that first checks the job is still this worker's, and the scores
table has one row per submission, so a job is never scored twice. The same transaction keeps
the evidence the leaderboard's statistics need (``scoring.Evidence``, server-side only) and, in
a phase with ``ladder`` feedback, makes the Ladder's decision (``campaigns.ladder``).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from palmares.backends import Backend, backend_registry
from palmares.campaigns.artifacts import Artifacts
from palmares.campaigns.audit import record
from palmares.campaigns.credentials import Vault
from palmares.campaigns.jobs import claim, heartbeat, holds, patiently, transient
from palmares.campaigns.ladder import decide
from palmares.campaigns.quotas import give_back
from palmares.campaigns.scoring import Evidence, partition_seed, score_parts_with_evidence
from palmares.campaigns.snapshots import freeze_ended
from palmares.core import InputError, ItemSet, PalmaresError, Predictions
from palmares.engine import ResponseCache, Scorer, run_model
from palmares.store import CampaignTask, Job, Phase, ScoreRecord, Submission
from palmares.store.models import AuditEvent, ScoreEvidence
from palmares.tasks import Task, load_task

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)

#: test hook (fault injection): seconds a worker pauses after claiming a job
PAUSE_ENV = "PALMARES_FAULT_WORKER_PAUSE"
#: test hook (fault injection): a worker process (``serve``'s) that claims a job segfaults
CRASH_ENV = "PALMARES_FAULT_WORKER_CRASH"


def worker_name() -> str:
    """``host:pid``, and the thread for a worker thread (``serve --workers N``): each thread
    holds its own leases, so one never takes over a sibling's job as its own."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    if threading.current_thread() is not threading.main_thread():
        name += f"/{threading.get_ident()}"
    return name[-100:]  # the column's width; the end (pid, thread) is what tells them apart


def run_one(
    db: sessionmaker[Session],
    artifacts: Artifacts,
    *,
    worker: str | None = None,
    lease_s: float = 30.0,
    clock: Clock = lambda: datetime.now(UTC),
) -> int | None:
    """Claim and process one job; its id, or None when the queue is empty."""
    worker = worker or worker_name()
    job_id = claim(db, worker, clock(), lease_s)
    if job_id is None:
        return None
    stop = threading.Event()
    kept = [0]  # answers of a model run kept in its cache: reported with each heartbeat

    def beat() -> None:
        while not stop.wait(lease_s / 3):
            # a failed beat (the database restarting) must not end the thread: the next may land
            # before the lease runs out; if it does not, holds() refuses this worker's scores
            try:
                heartbeat(db, job_id, worker, clock(), lease_s, progress=kept[0])
            except Exception as exc:
                log.warning("job %s: heartbeat failed (%s)", job_id, exc)

    beating = threading.Thread(target=beat, daemon=True)
    beating.start()
    try:
        pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
        if pause:
            time.sleep(pause)
        if os.environ.get(CRASH_ENV) and os.environ.get(_CHILD_ENV):
            _segfault()
        _process(db, artifacts, job_id, worker, clock, kept)
    finally:
        stop.set()
        beating.join()
    return job_id


def _process(
    db: sessionmaker[Session],
    artifacts: Artifacts,
    job_id: int,
    worker: str,
    clock: Clock,
    kept: list[int],
) -> None:
    def load() -> tuple[Submission, CampaignTask]:
        with db() as session:
            job = session.get(Job, job_id)
            assert job is not None
            submission = session.get(Submission, job.submission_id)
            assert submission is not None
            entry = session.get(CampaignTask, submission.campaign_task_id)
            assert entry is not None
            return submission, entry

    submission, entry = patiently(load, f"job {job_id}: reading it")
    per_item: list[dict[str, object]] | None = None
    evidence: dict[str, Evidence | None] = {}
    platform = False  # the platform's failure, not the submission's: its quota is given back
    try:
        try:
            task = load_task(entry.spec_path)
        except Exception as exc:
            raise PlatformFailure(f"the task failed to load: {exc}") from exc
        stored = submission.kind in ("predictions", "model_file")
        if stored and not artifacts.path(submission.artifact).is_file():
            raise PlatformFailure(f"the stored file {submission.artifact} is missing")
        seed = partition_seed(entry)
        if submission.split == "public":
            parts, per_item = _public_split(task, entry, submission, artifacts)
        else:
            source, items = _predictions(task, entry, submission, artifacts, kept)
            parts, evidence = score_parts_with_evidence(
                task, entry.hidden_split, source, seed, items
            )
        error = None
    except PlatformFailure as exc:
        parts, error, platform = None, f"{PLATFORM_ERROR}{exc}", True
    except InputError as exc:
        path = str(artifacts.path(submission.artifact)) if submission.artifact else None
        if path is not None and exc.file == path:
            # the file was checked at submission: a problem found only now is still the file's,
            # told by line and field (never by the server's path of it)
            located = InputError(exc.problem, line=exc.line, field=exc.field)
            parts, error = None, FILE_ERROR + str(located).replace(str(artifacts.root), "…")
        elif submission.kind == "predictions":  # a task or dataset file: the platform's
            parts, error, platform = None, f"{PLATFORM_ERROR}{exc}", True
        else:  # what the team's model or endpoint gave
            parts, error = None, f"scoring failed: {exc}"
    except PalmaresError as exc:
        if submission.kind == "predictions":  # its file passed every check: the platform's
            parts, error, platform = None, f"{PLATFORM_ERROR}{exc}", True
        else:  # a model or endpoint that failed (the submission's)
            parts, error = None, f"scoring failed: {exc}"
    except Exception:  # a bug of the platform's, outside the file's checks
        parts, error, platform = None, PLATFORM_ERROR + traceback.format_exc(limit=3), True
    if platform:
        log.error("job %s: %s", job_id, error)  # the organisers' logs; the console lists it too

    # the outcome in one transaction, retried while the database is away; a retry after a commit
    # that did reach the server finds the job done (holds() is false) and writes nothing
    def finish() -> None:
        with db.begin() as session:
            if not holds(session, job_id, worker):
                # the lease was lost and the job handed over: the new holder records it
                log.warning("job %s: lease lost to another worker, this result is dropped", job_id)
                return
            decision: dict[str, Any] | None = None
            if parts is None:
                session.execute(
                    update(Job).where(Job.id == job_id).values(status="failed", error=error)
                )
                status = "failed"
                if platform:  # in the transaction that marks it failed
                    refund(session, submission, worker, error or "", clock())
            else:
                score = ScoreRecord(
                    submission_id=submission.id,
                    public=parts["public"],
                    private=parts["private"],
                    items=per_item,
                    primary_metric=task.spec.primary_metric,
                    computed_at=clock(),
                )
                for part, found in evidence.items():
                    if found is not None:
                        session.add(_evidence_row(submission.id, part, found))
                phase = session.get(Phase, submission.phase_id)
                if (
                    phase is not None
                    and phase.feedback == "ladder"
                    and submission.split == "hidden"
                ):
                    decision = decide(session, submission, phase, evidence.get("public"), clock())
                    score.ladder = decision
                session.add(score)
                status = "scored"
            session.execute(
                update(Submission).where(Submission.id == submission.id).values(status=status)
            )
            summary: dict[str, object] = {"submission": submission.id, "status": status}
            if parts is not None and submission.split == "hidden":
                metric = task.spec.primary_metric
                summary |= {
                    "metric": metric,
                    "public": parts["public"]["scores"][metric]["value"],
                    "private": parts["private"]["scores"][metric]["value"],
                }
                if decision is not None:
                    summary["ladder"] = {k: decision[k] for k in ("accepted", "released", "best")}
            record(session, worker, "submission.score", summary, clock())

    patiently(finish, f"job {job_id}: recording its outcome")


class PlatformFailure(Exception):
    """Scoring failed for a reason of the platform's (a task that does not load, a stored file
    gone), not the submission's."""


#: how a job's error starts (``Job.error``, staff's view): the platform failed (quota given
#: back), or the file has a problem found only at scoring (told to the team by line and field)
PLATFORM_ERROR = "platform error (quota given back): "
FILE_ERROR = "file problem: "


def refund(session: Session, submission: Submission, actor: str, reason: str, at: datetime) -> bool:
    """Give back the quota ``submission`` used and audit it (``submission.refund``), once per
    submission (a rescored one that fails again is not refunded twice); whether it did."""
    done = session.scalars(
        select(AuditEvent.payload).where(AuditEvent.action == "submission.refund")
    )
    if any(p.get("submission") == submission.id for p in done):
        return False
    periods = give_back(session, submission.team_id, submission.phase_id, submission.created_at)
    payload = {"submission": submission.id, "periods": periods, "reason": reason[:500]}
    record(session, actor, "submission.refund", payload, at)
    return True


def failure_reason(error: str | None) -> tuple[str, str | None] | None:
    """What a team is told of its failed submission, from the job's error: ``("platform",
    None)`` (its quota was given back), ``("file", "line 3: prediction: …")``, or ``("other",
    None)`` (the detail is for staff). None when there is no error."""
    if not error:
        return None
    if error.startswith(PLATFORM_ERROR):
        return "platform", None
    if error.startswith(FILE_ERROR):
        return "file", error.removeprefix(FILE_ERROR)
    return "other", None


def _evidence_row(submission_id: str, part: str, found: Evidence) -> ScoreEvidence:
    return ScoreEvidence(
        submission_id=submission_id,
        part=part,
        metric=found.metric,
        kind=found.kind,
        items_digest=found.items_digest,
        n=found.n,
        value=found.value,
        replicates=found.replicates_blob(),
        items=found.items_blob(),
    )


def _public_split(
    task: Task, entry: CampaignTask, submission: Submission, artifacts: Artifacts
) -> tuple[dict[str, dict[str, Any]], list[dict[str, object]]]:
    """A submission on the public split: its scores, and its per-item results (the references
    there are public, so nothing is revealed)."""
    assert entry.public_split is not None
    result = Scorer(task, entry.public_split).score_file(str(artifacts.path(submission.artifact)))
    values = result.predictions
    predictions = values.to_pylist() if hasattr(values, "to_pylist") else list(values)
    per_item = [
        {
            "id": item_id,
            "prediction": predictions[i],
            # NaN (an item outside a metric's denominator) is stored as null: JSON has no NaN
            "scores": {
                name: float(column[i]) if math.isfinite(column[i]) else None
                for name, column in result.item_scores.items()
            },
        }
        for i, item_id in enumerate(result.ids)
    ]
    return {"public": result.table.to_json(), "private": {}}, per_item


def _predictions(
    task: Task,
    entry: CampaignTask,
    submission: Submission,
    artifacts: Artifacts,
    kept: list[int],
) -> tuple[str | Predictions, ItemSet | None]:
    """A predictions file's path, or the predictions of the submitted model on the hidden split
    (a GGUF file run here in the sandbox, or the team's endpoint) with the items they are for,
    as the task's protocol scores them. Answers go to a response cache of the submission's own
    as they arrive: a worker killed part-way leaves them there, and the next one resumes."""
    if submission.kind == "predictions":
        return str(artifacts.path(submission.artifact)), None
    backend: Backend
    if submission.kind == "model_file":
        # a file from outside: checked, then run in a confined process (backends.sandboxed)
        backend = (
            backend_registry().get("sandbox").create(str(artifacts.path(submission.artifact)), {})
        )
    else:
        from palmares.backends.openai import OpenAIBackend

        assert submission.endpoint_url is not None and submission.endpoint_model is not None
        key = submission.secret and Vault.for_artifacts(artifacts.root).open(submission.secret)
        backend = OpenAIBackend(submission.endpoint_url, submission.endpoint_model, api_key=key)
    cache = ResponseCache(artifacts.root / "runs" / f"{submission.id}.sqlite")
    try:

        def progress(done: int, total: int) -> None:
            kept[0] = done  # what the next heartbeat reports

        run = run_model(task, backend, split=entry.hidden_split, cache=cache, progress=progress)
    finally:
        backend.close()
        cache.close()
    return run.predictions, run.items


def run_forever(
    db: sessionmaker[Session], artifacts: Artifacts, *, poll_s: float = 1.0, lease_s: float = 30.0
) -> None:
    """Process jobs until interrupted; the database going away (a restart) pauses the worker, with
    a growing wait, instead of ending it: a job it held is finished or, its lease run out, claimed
    again."""
    backoff = poll_s
    while True:
        try:
            if run_one(db, artifacts, lease_s=lease_s) is None:
                freeze_ended(db)  # idle: publish the snapshots of phases that have ended
                time.sleep(poll_s)
            backoff = poll_s
        except DBAPIError as exc:
            if not transient(exc):
                raise
            log.warning("database unavailable (%s), retrying in %.1f s", exc.orig, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)


# --- worker processes (``palmares serve``) ------------------------------------------------------

#: set in the environment of a worker process started by :class:`WorkerProcesses`
_CHILD_ENV = "PALMARES_WORKER_CHILD"
_CHILD_CODE = "from palmares.campaigns.worker import child_main; child_main()"


def _segfault() -> None:
    import ctypes
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
    ctypes.string_at(0)  # reads address 0: SIGSEGV, as a crash in native code would


class WorkerProcesses:
    """``palmares serve``'s workers, each a process of its own, restarted when it dies.

    Scoring runs native parsers (pyarrow) and models on submitted files: a crash there takes
    one worker process down, never the web server; its job's lease runs out and the job is
    claimed again (at most ``max_attempts`` times). A worker process ends with the server: it
    reads a pipe from it and exits when the pipe closes, however the server ended. The database
    URL goes through the environment, not the command line (``ps`` shows that to everyone).
    """

    def __init__(
        self, count: int, db_url: str, artifacts: str, *, lease_s: float = 30.0,
        restart_s: float = 1.0,
    ) -> None:  # fmt: skip
        self.count, self.db_url, self.artifacts, self.lease_s = count, db_url, artifacts, lease_s
        self.restart_s = restart_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self.restarts = 0
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PALMARES_DB": self.db_url, _CHILD_ENV: str(os.getpid())}
        command = [sys.executable, "-c", _CHILD_CODE, self.artifacts, str(self.lease_s)]
        return subprocess.Popen(command, stdin=subprocess.PIPE, env=env)

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.count)]
        self._watch = threading.Thread(target=self._supervise, name="workers", daemon=True)
        self._watch.start()

    def _supervise(self) -> None:
        started = [time.monotonic()] * len(self.procs)
        waits = [self.restart_s] * len(self.procs)
        while not self._stop.wait(0.2):
            for i, proc in enumerate(self.procs):
                code = proc.poll()
                if code is None:
                    continue
                how = f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"
                # one that dies soon after starting, again and again, waits longer each time
                lived = time.monotonic() - started[i]
                waits[i] = self.restart_s if lived > 60 else min(waits[i] * 2, 30.0)
                log.error("worker process %s ended (%s): restarted", proc.pid, how)
                if self._stop.wait(waits[i]):
                    return
                self.procs[i] = self._spawn()
                started[i] = time.monotonic()
                self.restarts += 1

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.join()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout_s
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdin is not None:
                proc.stdin.close()


def child_main() -> None:
    """A worker process of :class:`WorkerProcesses`: ``argv`` is the artifacts folder and the
    lease; the database is ``$PALMARES_DB`` (migrated by the server before it started this)."""
    from palmares.store import open_engine, sessions

    logging.basicConfig(level=logging.INFO, format="worker %(process)d: %(message)s")
    artifacts, lease_s = sys.argv[1], float(sys.argv[2])

    def orphaned() -> None:  # the server's end of the pipe closed: it has ended
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # a claimed job's lease runs out
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops this
    run_forever(sessions(open_engine(os.environ["PALMARES_DB"])), Artifacts(artifacts),
                lease_s=lease_s)  # fmt: skip
