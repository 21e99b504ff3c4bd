"""Build the demo challenge « Grand défi IA générative en français (démo) » in a database:
two campaigns of the French pack — one closed, with its frozen leaderboard, one open in its dev
phase — real systems evaluated live (Gemma 3 270M zero-shot and few-shot) beside baselines
(random, majority, first choice), each submitted, scored by the worker and ranked with
intervals. Sizes are chosen so that the demo's own work stays within minutes on 2 cores."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import (
    Artifacts,
    add_user,
    create_campaign,
    create_system,
    freeze_ended,
    register,
    run_one,
    set_password,
    submit_predictions,
)
from palmares.demo.real_data import real_data_tasks
from palmares.demo.systems import (
    baseline_predictions,
    few_shot_variant,
    model_predictions,
    opened_cache,
)
from palmares.engine.cache import ResponseCache
from palmares.store import CampaignTask, migrate, open_engine, sessions
from palmares.tasks import load_task

PACK = Path(__file__).resolve().parents[1] / "packs" / "fr"
CHALLENGE_ID = "grand-defi-ia-fr"
CHALLENGE_TITLE = "Grand défi IA générative en français (démo)"
PASSWORD = "demo-palmares"  # printed by the demo: a local demonstration, not a deployment
#: arithmetic items generated per campaign (fresh test items each time, from its own seed)
CALCUL_ITEMS = 40
#: the demo folder's file of each campaign's secret arithmetic seed (kept across rebuilds, so
#: that the same items come back and the model's cached answers stay valid)
SEEDS_FILE = "calcul-seeds.json"

#: (label, start) → a progress callback for one run
Progress = Callable[[str], Callable[[int, int], None]]


@dataclass
class Demo:
    db: str
    artifacts: Path
    logins: dict[str, str] = field(default_factory=dict)  # user → role and team, for printing
    skipped: list[str] = field(default_factory=list)
    campaigns: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Campaign:
    slug: str
    title: str
    start: datetime  # its dev phase; a test phase follows
    end: datetime
    anchors_from: str | None = None


def calcul_seeds(folder: Path, slugs: list[str]) -> dict[str, int]:
    """Each campaign's secret seed of its hidden arithmetic items: read from the demo folder's
    :data:`SEEDS_FILE`, drawn at random (63 bits, :func:`secrets.randbits`) for a campaign that
    has none yet. Never a guessable number (a campaign's name, a date): the hidden items, and
    so their answers, are regenerated from the seed."""
    path = folder / SEEDS_FILE
    known: dict[str, int] = {}
    if path.is_file():
        try:
            read = json.loads(path.read_text("utf-8"))
        except ValueError:
            read = {}
        if isinstance(read, dict):
            known = {k: v for k, v in read.items() if isinstance(v, int) and v > 0}
    return {slug: known.get(slug) or secrets.randbits(63) or 1 for slug in slugs}


def _keep_seeds(folder: Path, seeds: dict[str, int]) -> None:
    path = folder / SEEDS_FILE
    path.write_text(json.dumps(seeds, indent=2) + "\n", "utf-8")
    path.chmod(0o600)


def _calcul_task(folder: Path, slug: str, seed: int) -> Path:
    """The arithmetic task with this campaign's own secret seed: items no model has seen. The
    folder is named by the campaign, never by its seed."""
    target = folder / f"calcul-fr-{slug}"
    shutil.copytree(PACK / "calcul-fr", target, dirs_exist_ok=True)
    (target / "test.json").write_text(json.dumps({"seed": seed, "n": CALCUL_ITEMS}), "utf-8")
    return target / "task.yaml"


def _fixed_partitions(db: sessionmaker[Session], campaign_id: int) -> None:
    """A demo shows the same numbers on every build: its public/private partitions are seeded
    by the published ``campaign:task`` (no secret: ``scoring.partition_seed``'s fallback), not
    by a random secret as a real campaign is."""
    with db.begin() as session:
        session.execute(
            update(CampaignTask)
            .where(CampaignTask.campaign_id == campaign_id)
            .values(split_secret=None)
        )


def _phase_dates(plan: _Campaign) -> tuple[tuple[date, date], tuple[date, date]]:
    """The dev and test phases' first and last days (a phase's end date is its last whole UTC
    day): the test phase starts the day after the dev phase's last day, never on it."""
    dev = (plan.start.date(), plan.end.date())
    test_start = dev[1] + timedelta(days=1)
    return dev, (test_start, test_start + timedelta(days=6))


def _yaml_path(path: Path, folder: Path) -> str:
    """A task path as the campaign YAML in ``folder`` names it, quoted: relative to that folder
    when inside it (the YAML reads its paths from its own folder), else absolute."""
    path, folder = path.resolve(), folder.resolve()
    where = path.relative_to(folder) if path.is_relative_to(folder) else path
    return json.dumps(where.as_posix(), ensure_ascii=False)


def _campaign_yaml(folder: Path, plan: _Campaign, calcul: Path, extra: list[Path]) -> Path:
    """The campaign's YAML in ``folder``: the pack's culture-fr (by its pack id), the campaign's
    own arithmetic task and ``extra`` tasks (paths written relative to ``folder``)."""
    (dev_start, dev_end), (test_start, test_end) = _phase_dates(plan)
    anchors = f"\n  anchors_from: {plan.anchors_from}" if plan.anchors_from else ""
    more = "".join(
        f"\n  - {{task: {_yaml_path(path, folder)}, hidden_split: test}}" for path in extra
    )
    body = f"""challenge: {{id: {CHALLENGE_ID}, title: "{CHALLENGE_TITLE}"}}
campaign:
  id: {plan.slug}
  title: "{plan.title}"
  rules: rules.md{anchors}
tasks:
  - {{task: culture-fr, public_split: fewshot, hidden_split: test}}
  - {{task: {_yaml_path(calcul, folder)}, public_split: dev, hidden_split: test}}{more}
phases:
  - {{kind: dev, start: {dev_start}, end: {dev_end},
     quota: {{per_day: 10, total: 100}}, feedback: full, accepts: [predictions, model_file]}}
  - {{kind: test, start: {test_start}, end: {test_end},
     quota: {{total: 3}}, feedback: none, accepts: [predictions]}}
"""
    path = folder / f"{plan.slug}.yaml"
    path.write_text(body, "utf-8")
    return path


RULES = """# Règlement de la démo

- Une équipe par système ; les soumissions sont des fichiers de prédictions (ou un fichier GGUF).
- Le classement public porte sur la moitié publique du test caché ; la moitié privée décide du
  classement final, publié à la fin de chaque phase.
- Tailles réduites pour la démonstration : 163 questions de culture générale, {n} problèmes
  d'arithmétique par campagne (nouveaux à chaque campagne).
"""

SYSTEMS = {  # team → (user, how its predictions are made)
    "Gemma 3 270M · 0-shot": ("gemma0", "model"),
    "Gemma 3 270M · 5-shot": ("gemma5", "model-fewshot"),
    "Hasard": ("hasard", "random"),
    "Majoritaire": ("majoritaire", "majority"),
    "Premier choix": ("premier", "first"),
}


def build_demo(
    folder: Path,
    *,
    model: Path,
    progress: Progress,
    say: Callable[[str], None] = print,
    now: datetime | None = None,
    cache: Path | None = None,
    data_dir: Path | None = None,
) -> Demo:
    """Create the demo in ``folder`` (its database, artifacts, task copies, predictions); with
    ``data_dir`` (a local copy of the public data), the open campaign adds real-data tasks."""
    now = now or datetime.now(UTC)
    folder = folder.resolve()  # a relative folder (make demo's runs/demo) means the same here
    plans = [  # two closed campaigns (progress on their anchor items is public), one open
        _Campaign("printemps-2026", "Campagne de printemps 2026 (close)",
                  now - timedelta(days=120), now - timedelta(days=80)),
        _Campaign("automne-2026", "Campagne d'automne 2026 (close)",
                  now - timedelta(days=60), now - timedelta(days=20),
                  anchors_from="printemps-2026"),
        _Campaign("printemps-2027", "Campagne de printemps 2027 (ouverte)",
                  now - timedelta(days=2), now + timedelta(days=30),
                  anchors_from="automne-2026"),
    ]  # fmt: skip
    seeds = calcul_seeds(folder, [plan.slug for plan in plans])  # read before the folder goes
    if folder.exists():
        shutil.rmtree(folder)  # each demo starts afresh; the model's answers stay cached
    folder.mkdir(parents=True)
    _keep_seeds(folder, seeds)
    (folder / "rules.md").write_text(RULES.format(n=CALCUL_ITEMS), "utf-8")
    demo = Demo(db=f"sqlite:///{folder / 'palmares.db'}", artifacts=folder / "artifacts")
    engine = open_engine(demo.db)
    migrate(engine)
    db = sessions(engine)
    artifacts = Artifacts(demo.artifacts)
    add_user(db, "orga", "organiser")
    set_password(db, "orga", PASSWORD)
    demo.logins["orga"] = "organiser"
    tokens = {}
    for team, (user, _) in SYSTEMS.items():
        tokens[team] = add_user(db, user, "participant", team=team)
        set_password(db, user, PASSWORD)
        create_system(db, tokens[team], team, f"démo : {team}", {"kind": SYSTEMS[team][1]})
        demo.logins[user] = f"participant, équipe « {team} »"
    real, demo.skipped = real_data_tasks(data_dir, folder / "tasks")
    for line in demo.skipped:
        say(f"Skipped {line}")
    with opened_cache(cache) as answers:
        for plan in plans:
            calcul = _calcul_task(folder / "tasks", plan.slug, seeds[plan.slug])
            extra = real if plan.end > now else []  # the open campaign only
            campaign_id = create_campaign(
                db, _campaign_yaml(folder, plan, calcul, extra), now=plan.start, actor="demo"
            )
            demo.campaigns.append(campaign_id)
            _fixed_partitions(db, campaign_id)
            submitted_at = [plan.start + timedelta(days=1, hours=2)]
            (_, _), (test_start, test_end) = _phase_dates(plan)
            if datetime.combine(test_end, time(), UTC) < now:  # a closed campaign: its final
                # (test-phase) board is ranked too, on the same systems' predictions
                submitted_at.append(datetime.combine(test_start, time(2), UTC))
            for team in SYSTEMS:
                register(db, tokens[team], campaign_id, True, now=plan.start)
            for task_yaml in (PACK / "culture-fr" / "task.yaml", calcul, *extra):
                _submit_all(
                    db, artifacts, folder, plan, campaign_id, task_yaml, tokens, model, answers,
                    progress, submitted_at,
                )  # fmt: skip
    say("Scoring the submissions (the worker) …")
    while run_one(db, artifacts) is not None:
        pass
    freeze_ended(db, now)  # the closed campaign's leaderboards are frozen
    engine.dispose()
    return demo


def _submit_all(
    db: sessionmaker[Session],
    artifacts: Artifacts,
    folder: Path,
    plan: _Campaign,
    campaign_id: int,
    task_yaml: Path,
    tokens: dict[str, str],
    model: Path,
    cache: ResponseCache,
    progress: Progress,
    phases_at: list[datetime],
) -> None:
    """Each system's predictions for ``task_yaml``, made once, submitted at each of
    ``phases_at`` (a moment in each phase that ranks them)."""
    task = load_task(task_yaml)
    task_id = task.spec.id
    out = folder / "predictions" / plan.slug / task_id
    multiple_choice = task.protocol is not None and task.protocol.type == "multiple_choice"
    train = "fewshot" if "fewshot" in task.splits else "dev"
    has_train = train in task.splits  # few-shot examples and the majority answer come from it
    for team, (user, how) in SYSTEMS.items():
        path = out / f"{user}.jsonl"
        label = f"{team} · {task_id}"
        if how == "model":
            model_predictions(task, model, "test", path, cache, progress(label))
        elif how == "model-fewshot" and has_train:
            variant = load_task(few_shot_variant(task_yaml, out / "variant", train, 5))
            model_predictions(variant, model, "test", path, cache, progress(label))
        elif multiple_choice and (how in ("random", "first") or (how == "majority" and has_train)):
            baseline_predictions(task, "test", train, how, path)
        else:
            continue  # nothing to compare with (pairs have no choice baselines)
        for at in phases_at:  # five minutes apart, in the order of SYSTEMS
            submit_predictions(
                db, artifacts, tokens[team], campaign_id, task_id, path, system=team,
                now=at + timedelta(minutes=5 * list(SYSTEMS).index(team)),
            )  # fmt: skip
