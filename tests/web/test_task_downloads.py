"""The task page's downloads (issue #14): the public split for everyone, the hidden split's ids
and inputs for approved teams and staff (never a reference), and a sample submission of each
split that passes the upload's check and is scored, for every value kind; what a prediction
looks like on the datasheet; the item explorer shows a chosen choice as its text."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.campaigns.conftest import db_url  # noqa: F401  (fixture)

from palmares.campaigns import add_user, create_campaign, log_in, register, run_one, set_password
from palmares.core import ValueKind
from palmares.store import CampaignTask, Job, Submission
from palmares.tasks import load_task, read_predictions
from palmares.web import Settings, create_app

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "src" / "palmares" / "packs" / "fr"
AVIS = ROOT / "src" / "palmares" / "examples" / "avis-fr" / "task.yaml"
PASSWORD = "correct horse battery"
SECRET = "SECRET-REF-5a1e"  # in every hidden reference of the generated tasks

#: task id → (task file, public split, hidden split, value kind)
TASKS: dict[str, tuple[str, str | None, str, ValueKind]] = {
    "culture-fr": (str(PACK / "culture-fr" / "task.yaml"), "fewshot", "test", ValueKind.CHOICE),
    "calcul-fr": (str(PACK / "calcul-fr" / "task.yaml"), "dev", "test", ValueKind.TEXT),
    "avis-fr": (str(AVIS), None, "test", ValueKind.LABEL),
    "rang": ("rang/task.yaml", "dev", "test", ValueKind.RANKING),
    "mesure": ("mesure/task.yaml", "dev", "test", ValueKind.NUMBER),
    "paires": ("paires/task.yaml", "dev", "test", ValueKind.PAIR),
}


def _generated(folder: Path) -> None:
    """A ranking task, a numeric one and a pairs one, each with a dev and a test split."""
    for name, rows, dataset, extra in (
        (
            "rang",
            lambda split, i: {"qid": f"{split}{i}", "query": f"requête {i}",
                              "relevant": {f"d{i}": 2.0, f"{SECRET}{i}" if split == "test"
                                           else f"d{i + 1}": 1.0}},
            "id_field: qid, input_fields: [query], reference_field: relevant",
            "metrics: [ndcg@5, mrr]",
        ),
        (
            "mesure",
            lambda split, i: {"id": f"{split}{i}", "x": f"{i} mètres",
                              "y": i * 1.5 if split == "dev" else f"{SECRET}"},
            "id_field: id, input_fields: [x], reference_field: y",
            "metrics: [mae]",
        ),
        (
            "paires",
            lambda split, i: {"id": f"{split}{i}", "a": f"Phrase A {i}.", "b": f"Phrase B {i}."},
            "id_field: id",
            "protocol: {type: pairs, first_field: a, second_field: b}\n"
            "metrics: [first_preferred]",
        ),
    ):  # fmt: skip
        (folder / name).mkdir()
        for split, n in (("dev", 4), ("test", 6)):
            lines = [json.dumps(rows(split, i), ensure_ascii=False) for i in range(n)]
            (folder / name / f"{split}.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
        if name == "mesure":  # a number as the hidden reference: the secret goes in the input
            lines = [json.dumps({"id": f"test{i}", "x": f"{i} m", "y": 1000 + i}) for i in range(6)]
            (folder / name / "test.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
        (folder / name / "task.yaml").write_text(
            f"id: {name}\nversion: 1\ntitle: Tâche {name}\nlanguage: fr\nlicense: CC0-1.0\n"
            "dataset: {splits: {dev: dev.jsonl, test: test.jsonl}, format: jsonl, "
            f"{dataset}}}\n{extra}\n",
            "utf-8",
        )


def _campaign(folder: Path) -> Path:
    now = datetime.now(UTC)
    tasks = "".join(
        f"  - {{task: {path}, hidden_split: {hidden}"
        + (f", public_split: {public}" if public else "")
        + "}\n"
        for path, public, hidden, _ in TASKS.values()
    )
    path = folder / "campaign.yaml"
    path.write_text(
        f"""
challenge: {{id: defi-fr, title: "Défi"}}
campaign: {{id: c1, title: "Campagne 1"}}
tasks:
{tasks}phases:
  - {{kind: dev, start: {(now - timedelta(days=1)).date()}, end: {(now + timedelta(days=1)).date()},
     quota: {{total: 40}}, feedback: full, accepts: [predictions]}}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> dict[str, TestClient]:  # noqa: F811
    """The campaign on every task; alice's team registered, bob's not, olga an organiser;
    a browser session each (and ``api`` with alice's API token)."""
    _generated(tmp_path)
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    db = app.state.db
    create_campaign(db, _campaign(tmp_path))
    alice = add_user(db, "alice", "participant", team="lab-a")
    add_user(db, "bob", "participant", team="lab-b")
    add_user(db, "olga", "organiser")
    register(db, alice, 1, True)
    clients = {"anonymous": TestClient(app)}
    for name in ("alice", "bob", "olga"):
        set_password(db, name, PASSWORD)
        cookie = log_in(db, name, PASSWORD).token
        clients[name] = TestClient(app, cookies={"palmares_session": cookie})
    clients["api"] = TestClient(app, headers={"Authorization": f"Bearer {alice}"})
    return clients


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_downloads_per_visitor(site: dict[str, TestClient]) -> None:
    base = "/campaigns/1/tasks/culture-fr"
    public = site["anonymous"].get(f"{base}/data?split=fewshot")
    assert public.status_code == 200
    assert public.headers["content-disposition"].startswith(
        'attachment; filename="culture-fr-fewshot.jsonl"'
    )
    rows = _lines(public.text)
    assert len(rows) == 5 and all(set(r) == {"id", "inputs", "reference"} for r in rows)
    # the hidden split: a login first, then the registration decides (as the API's /data)
    anonymous = site["anonymous"].get(f"{base}/data?split=test", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert site["bob"].get(f"{base}/data?split=test").status_code == 403
    assert site["bob"].get(f"{base}/sample?split=test").status_code == 403
    hidden = site["alice"].get(f"{base}/data?split=test")
    assert hidden.status_code == 200
    assert 'filename="culture-fr-test.jsonl"' in hidden.headers["content-disposition"]
    rows = _lines(hidden.text)
    assert len(rows) == 163 and all(set(r) == {"id", "inputs"} for r in rows)
    inputs = rows[0]["inputs"]
    assert isinstance(inputs, dict) and set(inputs) == {"question", "choix"}
    assert hidden.text == site["api"].get("/api/campaigns/1/tasks/culture-fr/data/test").text
    assert site["olga"].get(f"{base}/data?split=test").status_code == 200  # staff
    assert site["alice"].get(f"{base}/data?split=nope").status_code == 403
    # no hidden reference in any download of the generated tasks, for anyone allowed
    for task in ("rang", "mesure"):
        for who in ("alice", "olga"):
            for path in ("data?split=test", "sample?split=test", "sample?split=test&format=csv"):
                got = site[who].get(f"/campaigns/1/tasks/{task}/{path}")
                assert got.status_code == 200 and SECRET not in got.text
                assert "1000" not in got.text  # the numeric task's hidden references


def test_datasheet_sizes_inputs_links_and_guide(site: dict[str, TestClient]) -> None:
    page = site["anonymous"].get("/campaigns/1/tasks/calcul-fr").text
    assert "<td>publique (avec les références)</td><td>20</td>" in page
    assert "<td>cachée (sert au classement)</td><td>200</td>" in page
    assert "<dt>entrées</dt><dd><code>question</code></dd>" in page  # not "—"
    assert 'href="/campaigns/1/tasks/calcul-fr/data?split=dev"' in page
    assert "data?split=test" not in page and "sample?split=test" not in page
    assert "Connectez-vous" in page
    assert "Un texte pour chaque item" in page and '"prediction": "0"' in html.unescape(page)
    member = site["alice"].get("/campaigns/1/tasks/calcul-fr").text
    assert 'href="/campaigns/1/tasks/calcul-fr/data?split=test"' in member
    assert 'href="/campaigns/1/tasks/calcul-fr/sample?split=test&amp;format=csv"' in member
    assert "http://testserver/api/campaigns/1/tasks/calcul-fr/data/test" in member
    outsider = site["bob"].get("/campaigns/1/tasks/calcul-fr").text
    assert "Inscrivez votre équipe" in outsider and "data?split=test" not in outsider
    choice = site["anonymous"].get("/campaigns/1/tasks/culture-fr").text
    assert "Choix multiple" in choice and "<code>choix</code>" in choice
    pairs = site["anonymous"].get("/campaigns/1/tasks/paires").text
    assert "Paires" in pairs and "format=csv" not in pairs  # no CSV form for a pair
    assert (
        "What a prediction looks like" in site["alice"].get("/campaigns/1/tasks/rang?lang=en").text
    )


def _spec_path(client: TestClient, task_id: str) -> str:
    with client.app.state.db() as s:  # type: ignore[attr-defined]
        found = s.scalar(select(CampaignTask.spec_path).where(CampaignTask.task_id == task_id))
    assert found is not None
    return str(found)


@pytest.mark.parametrize("split_role", ["hidden", "public"])
def test_sample_submissions_pass_the_check_and_are_scored(
    site: dict[str, TestClient], split_role: str, tmp_path: Path
) -> None:
    """Each sample (JSON Lines and CSV) passes read_predictions on its split; the JSON Lines
    one is accepted through the API and scored by the worker."""
    queued = []
    for task_id, (_, public, hidden, kind) in TASKS.items():
        split = hidden if split_role == "hidden" else public
        if split is None:
            continue
        task = load_task(_spec_path(site["api"], task_id))
        assert task.value_kind is kind
        sample = f"/campaigns/1/tasks/{task_id}/sample?split={split}"
        for fmt in ["jsonl"] if kind is ValueKind.PAIR else ["jsonl", "csv"]:
            got = site["alice"].get(f"{sample}&format={fmt}")
            assert got.status_code == 200, (task_id, fmt, got.text)
            name = f"{task_id}-{split}-exemple.{fmt}"
            assert f'filename="{name}"' in got.headers["content-disposition"]
            file = tmp_path / name
            file.write_text(got.text, "utf-8")
            read = read_predictions(file, task.items(split), kind)  # the upload's check
            assert len(read.values) == len(task.items(split))
            if fmt == "csv":
                assert next(csv.reader(io.StringIO(got.text))) == ["id", "prediction"]
                continue
            sent = site["api"].post(
                f"/api/campaigns/1/tasks/{task_id}/submissions",
                files={"file": (name, got.content)},
                data={"split": split_role},
            )
            assert sent.status_code == 201, (task_id, fmt, sent.text)
            queued.append((task_id, sent.json()["id"]))
        if kind is ValueKind.PAIR:  # a pair has no CSV form
            assert site["alice"].get(f"{sample}&format=csv").status_code == 403
    app = site["api"].app
    while run_one(app.state.db, app.state.artifacts) is not None:  # type: ignore[attr-defined]
        pass
    with app.state.db() as s:  # type: ignore[attr-defined]
        status = {(task, sid): s.get(Submission, sid).status for task, sid in queued}
        errors = {
            task: job.error
            for (task, sid), state in status.items()
            if state != "scored"
            for job in s.scalars(select(Job).where(Job.submission_id == sid))
        }
    assert len(status) == (6 if split_role == "hidden" else 5)
    assert set(status.values()) == {"scored"}, errors
    if split_role == "public":  # the item explorer shows the chosen choice, by its text
        sid = next(sid for task, sid in queued if task == "culture-fr")
        run = site["alice"].get(f"/submissions/{sid}").text
        table = run[run.index('id="item-explorer"') :]
        assert "logliks" not in table and "-inf" not in table
        first = load_task(TASKS["culture-fr"][0]).items("fewshot").inputs["choix"][0]
        assert f"<td>{html.escape(first[0])} (0)</td>" in table
