"""One reader of predictions files (issue #14): the format is decided once, at upload, from the
name or the content, and the worker reads the stored artifact (which has no name) the same way;
a file sent to the wrong split is told which split its ids are."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.campaigns.conftest import EXAMPLE, campaign_for_task, join, open_campaign_file

from palmares.campaigns import Artifacts, create_campaign, run_one, submit_predictions
from palmares.core import InputError, ValueKind
from palmares.store import AuditEvent, Job, ScoreRecord, Submission
from palmares.tasks import load_task, read_predictions
from palmares.tasks.predictions import predictions_format, sniff_format
from palmares.web import Settings, create_app

ROWS = [json.loads(line) for line in (EXAMPLE / "baseline.jsonl").read_text("utf-8").splitlines()]


def _delimited(delimiter: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["id", "prediction"])
    writer.writerows([r["id"], r["prediction"]] for r in ROWS)
    return out.getvalue().encode("utf-8")


FILES = {
    "jsonl": "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS).encode("utf-8"),
    "csv": _delimited(","),
    "tsv": _delimited("\t"),
}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_csv_tsv_jsonl_and_gzip_score_the_same_through_the_api(db_url: str, tmp_path: Path) -> None:
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    db, artifacts = app.state.db, app.state.artifacts
    create_campaign(db, open_campaign_file(tmp_path, quota=20))
    token = join(db, "alice", "lab-a")
    api = TestClient(app)
    sent: dict[str, str] = {}
    for fmt, body in FILES.items():
        # the name tells the format, or (no useful name) the content does
        for name, data in (
            (f"preds.{fmt}", body),
            (f"preds.{fmt}.gz", gzip.compress(body)),
            ("predictions", body),
            ("predictions.gz", gzip.compress(body)),
        ):
            res = api.post(
                "/api/campaigns/1/tasks/avis-fr/submissions",
                files={"file": (name, data)},
                headers=_auth(token),
            )
            assert res.status_code == 201, (name, res.text)
            sent[name if name.startswith("preds.") else f"{name} ({fmt})"] = res.json()["id"]
    while run_one(db, artifacts) is not None:
        pass
    with db() as s:
        jobs = {j.submission_id: j for j in s.scalars(select(Job))}
        assert all(j.status == "done" and j.error is None for j in jobs.values()), [
            j.error for j in jobs.values()
        ]
        records = {name: s.get(ScoreRecord, sid) for name, sid in sent.items()}
        formats = {
            e.payload["submission"]: e.payload.get("format")
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "submission.create"))
        }
    assert len(records) == 12
    scores = {
        name: (r.public["scores"], r.private["scores"])
        for name, r in records.items()
        if r is not None
    }
    first = scores["preds.jsonl"]
    assert first[0]["accuracy"]["value"] > 0.5
    assert all(value == first for value in scores.values()), scores.keys()
    # the format decided at upload is kept with the submission (its audit event)
    assert formats[sent["preds.csv.gz"]] == "csv" and formats[sent["predictions (tsv)"]] == "tsv"
    assert formats[sent["predictions.gz (jsonl)"]] == "jsonl"


def test_a_name_the_content_contradicts_is_refused_at_upload(db_url: str, tmp_path: Path) -> None:
    app = create_app(Settings(db=db_url, artifacts=str(tmp_path / "artifacts")))
    db = app.state.db
    create_campaign(db, open_campaign_file(tmp_path, quota=5))
    token = join(db, "alice", "lab-a")
    api = TestClient(app)
    url = "/api/campaigns/1/tasks/avis-fr/submissions"
    res = api.post(url, files={"file": ("preds.csv", FILES["jsonl"])}, headers=_auth(token))
    assert res.status_code == 400
    message = res.json()["message"]
    assert message.startswith("preds.csv:1: ") and "no 'id' column" in message
    assert message.endswith(
        "the file is named as CSV but holds JSON Lines (its first line is a JSON object): "
        "name it .jsonl"
    )
    assert str(tmp_path) not in message
    res = api.post(url, files={"file": ("preds.jsonl", FILES["csv"])}, headers=_auth(token))
    assert res.status_code == 400 and "holds CSV" in res.json()["message"]
    with db() as s:
        assert s.scalars(select(Submission)).all() == []  # nothing counted, nothing stored


def test_the_reader_decides_from_the_name_else_the_content(tmp_path: Path) -> None:
    task = load_task(EXAMPLE / "task.yaml")
    items = task.items()
    for fmt, body in FILES.items():
        assert sniff_format(body) == (fmt, True)
        assert sniff_format(b"\xef\xbb\xbf\n\n" + body) == (fmt, fmt == "jsonl")
        for name in (f"p.{fmt}", "p.txt", "p"):
            path = tmp_path / name
            path.write_bytes(body)
            assert predictions_format(path) == fmt
            assert len(read_predictions(path, items, ValueKind.LABEL).values) == len(items)
    (tmp_path / "odd").write_bytes(b"ID;Prediction\n")
    assert predictions_format(tmp_path / "odd") == "jsonl"  # a guess: the reader says what fails
    # a file that reads as CSV and as TSV alike: refused under either name
    both = b"id\tprediction\tx,id,prediction\n" + b"".join(
        f"{r['id']}\t{r['prediction']}\tx,{r['id']},{r['prediction']}\n".encode() for r in ROWS
    )
    for name, sniffed in (("both.tsv", "CSV"), ("both.csv", None)):
        (tmp_path / name).write_bytes(both)
        if sniffed is None:
            assert len(read_predictions(tmp_path / name, items, ValueKind.LABEL).values) == 48
            continue
        with pytest.raises(InputError, match=f"named as TSV but holds {sniffed}"):
            read_predictions(tmp_path / name, items, ValueKind.LABEL)


# --- splits and ids --------------------------------------------------------------------------


def _two_splits(folder: Path) -> Path:
    """A task whose dev (20) and test (40) splits reuse the same id strings for other
    questions, as the demo's calcul-fr does (calcul-0001…)."""
    for split, n in (("dev", 20), ("test", 40)):
        lines = (
            json.dumps({"id": f"calcul-{i:04d}", "q": f"{split} {i}", "a": str(i % 7)})
            for i in range(1, n + 1)
        )
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (folder / "task.yaml").write_text(
        "id: calcul\nversion: 1\ntitle: Calcul\nlanguage: fr\nlicense: CC0-1.0\n"
        "dataset: {splits: {dev: dev.jsonl, test: test.jsonl}, format: jsonl, id_field: id,"
        " input_fields: [q], reference_field: a}\nmetrics: [exact_match]\n",
        "utf-8",
    )
    return campaign_for_task(folder, public_split="dev", quota=10)


def _file(folder: Path, name: str, ids: range) -> Path:
    path = folder / name
    path.write_text(
        "".join(json.dumps({"id": f"calcul-{i:04d}", "prediction": "1"}) + "\n" for i in ids),
        "utf-8",
    )
    return path


def test_a_file_of_the_other_splits_ids_is_told_so(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    artifacts = Artifacts(tmp_path / "artifacts")
    create_campaign(db, _two_splits(tmp_path))
    token = join(db, "alice", "lab-a")
    dev = _file(tmp_path, "dev.preds.jsonl", range(1, 21))
    test = _file(tmp_path, "test.preds.jsonl", range(1, 41))

    def refusal(path: Path, split: str) -> str:
        with pytest.raises(InputError) as caught:
            submit_predictions(db, artifacts, token, 1, "calcul", path, split=split)
        return caught.value.problem

    to_hidden = refusal(dev, "hidden")
    assert to_hidden.startswith("missing predictions for 20 of 40 items")
    assert to_hidden.endswith(
        "; these ids are the dev split's: choose “development” (split=public)"
    )
    to_public = refusal(test, "public")
    assert to_public.startswith("unknown id 'calcul-0021'")
    assert to_public.endswith(
        "; these ids are the test split's: choose “hidden test” (split=hidden)"
    )
    # a test file short of one line is this split's, not dev's (though it holds dev's 20 ids)
    short = _file(tmp_path, "short.jsonl", range(1, 40))
    assert "these ids" not in refusal(short, "hidden")
    assert "these ids" not in refusal(_file(tmp_path, "few.jsonl", range(1, 5)), "public")
    # the right files go through
    submit_predictions(db, artifacts, token, 1, "calcul", dev, split="public")
    submit_predictions(db, artifacts, token, 1, "calcul", test, split="hidden")
