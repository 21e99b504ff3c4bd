"""The hostile corpus (``corpus.py``) through the API, in-process, on SQLite and PostgreSQL:
each file refused with a 4xx that names its problem (file, line, field), quoting no data of
the task, and leaving nothing behind (no submission, no job, no quota used, no artifact file);
the quota is whole afterwards. The same through the submit page for a few; and campaign and
task YAML with Python tags, aliases and deep nesting, refused by line."""

from __future__ import annotations

import gzip
import html
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.security.conftest import DATA_TEXTS, Server
from tests.security.corpus import GOOD, LIMIT_MB, LINES, Case, model_cases, prediction_cases

from palmares.campaigns import create_campaign_from_text, log_in, set_password
from palmares.core import InputError
from palmares.tasks import load_task
from palmares.web.limits import MB, TooLarge
from palmares.web.pages._base import SESSION_COOKIE
from palmares.web.uploads import _gunzip

NOTHING = {"submissions": 0, "jobs": 0, "quota used": 0, "artifact files": 0}


def _post(client: TestClient, server: Server, case: Case):  # type: ignore[no-untyped-def]
    task = "avis-chat" if case.kind == "model_file" else "avis-fr"
    return client.post(
        f"/api/campaigns/1/tasks/{task}/submissions",
        files={"file": (case.filename, case.body)},
        data={"kind": case.kind},
        headers={"Authorization": f"Bearer {server.token}"},
    )


def _problems(case: Case, status: int, message: str, reply: str) -> list[str]:
    """What is wrong with the refusal of ``case``: nothing, if it is as it should be."""
    found = []
    if status != case.status:
        found.append(f"status {status}, not {case.status}")
    found += [f"does not say {said!r}" for said in case.says if said not in message]
    if "palmares-upload-" in reply or "/tmp/" in reply:
        found.append("shows a server path")
    if len(reply) > 2000:
        found.append(f"a reply of {len(reply)} characters (echoes the upload?)")
    found += [f"quotes the task's data: {t[:30]!r}" for t in DATA_TEXTS if t in reply]
    return [f"{case.id}: {p} — {message[:300]!r}" for p in found]


def test_corpus_is_large_enough() -> None:
    assert len(prediction_cases()) + len(model_cases()) >= 30


def test_every_hostile_file_is_refused_and_leaves_nothing(server: Server) -> None:
    client = TestClient(server.app, raise_server_exceptions=False)  # a 500 is a failure too
    failures: list[str] = []
    for case in [*prediction_cases(), *model_cases()]:
        res = _post(client, server, case)
        message = res.json().get("message", "") if res.headers["content-type"].startswith(
            "application/json") else ""  # fmt: skip
        failures += _problems(case, res.status_code, message, res.text)
        code = case.code or {400: "invalid_input", 413: "too_large"}[case.status]
        if f'"code":"{code}"' not in res.text:
            failures.append(f"{case.id}: not the code {code!r}: {res.text[:200]}")
        if server.stored() != NOTHING:
            failures.append(f"{case.id}: left {server.stored()}")
    assert not failures, "\n".join(failures)
    # the quota is whole: its two submissions go through, the third is refused
    good = Case("good", "preds.jsonl.gz", gzip.compress(GOOD), ())
    assert _post(client, server, good).status_code == 201  # gzip is accepted
    good = Case("good", "preds.csv", b"id,prediction\n" + _csv(), ())
    assert _post(client, server, good).status_code == 201
    assert _post(client, server, good).status_code == 429


def _csv() -> bytes:
    import json

    return b"".join(f"{r['id']},{r['prediction']}\n".encode() for r in map(json.loads, LINES))


def test_a_gzip_bomb_is_refused_after_the_limit(server: Server, tmp_path: Path) -> None:
    """512 MB of zeros in 32 gzip members of 16 kB each: decompression stops one byte past
    the limit, and what it wrote is never more than the limit."""
    member = gzip.compress(bytes(16 * MB), compresslevel=9, mtime=0)
    bomb = member * 32
    assert len(bomb) < LIMIT_MB * MB  # under the limit as sent
    case = Case("bomb", "bomb.jsonl.gz", bomb, (f"larger than {LIMIT_MB} MB decompressed",), 413)
    res = _post(TestClient(server.app), server, case)
    assert res.status_code == 413 and case.says[0] in res.json()["message"]
    assert server.stored() == NOTHING
    local = tmp_path / "out.jsonl"
    with pytest.raises(TooLarge):
        _gunzip(bomb[: 1 << 20], io.BytesIO(bomb[1 << 20 :]), local, LIMIT_MB, "bomb.jsonl.gz")
    assert local.stat().st_size <= LIMIT_MB * MB


def test_the_submit_page_shows_the_refusals(server: Server) -> None:
    """The same refusals on the HTML submit page: status, message (escaped) in the page."""
    set_password(server.db, "alice", "un mot de passe sûr")
    made = log_in(server.db, "alice", "un mot de passe sûr")
    client = TestClient(server.app)
    client.cookies.set(SESSION_COOKIE, made.token)
    shown = ("nul-bytes", "csv-formula-id", "name-header-injection", "far-over-the-limit")
    for case in (c for c in prediction_cases() if c.id in shown):
        res = client.post(
            "/campaigns/1/tasks/avis-fr/submit?lang=en",  # the English page: the API's words
            files={"file": (case.filename, case.body)},
            data={"kind": "predictions", "csrf": made.csrf},
        )
        assert res.status_code == case.status, (case.id, res.text[:300])
        assert res.headers["content-type"].startswith("text/html")
        assert case.says[-1] in html.unescape(res.text), case.id  # the page lays out file, line
        assert '"http://evil"' not in res.text  # the formula's quotes are escaped
        assert server.stored() == NOTHING


# --- YAML: tags, aliases, nesting -------------------------------------------------------------

CAMPAIGN = """challenge: {id: defi, title: "Défi"}
campaign: {id: c1, title: "Campagne"}
tasks:
  - {task: avis-fr/task.yaml, hidden_split: test}
phases:
  - {kind: dev, start: 2030-01-01, end: 2030-02-01, quota: {total: 2}, feedback: full}
"""
BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
YAML_CASES = [
    (
        "python-object",
        CAMPAIGN.replace(
            'title: "Campagne"', "title: !!python/object/apply:os.system [echo pwned]"
        ),
        2,
        "could not determine a constructor",
    ),
    (
        "python-name",
        CAMPAIGN + "extra: !!python/name:os.system\n",
        7,
        "could not determine a constructor",
    ),
    (
        "custom-tag",
        CAMPAIGN.replace("feedback: full", "feedback: !shell full"),
        6,
        "could not determine a constructor",
    ),
    ("billion-laughs", CAMPAIGN + BILLION_LAUGHS, 8, "aliases (*name) are not accepted"),
    (
        "deep-nesting",
        CAMPAIGN + "extra: " + "[" * 50_000 + "]" * 50_000 + "\n",
        None,
        "nested too deeply",
    ),
]


@pytest.mark.parametrize("name,text,line,says", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_hostile_campaign_yaml_is_refused_by_line(
    server: Server, tmp_path: Path, name: str, text: str, line: int | None, says: str
) -> None:
    tasks = Path(__file__).resolve().parents[2] / "src" / "palmares" / "examples"
    with pytest.raises(InputError) as caught:
        create_campaign_from_text(server.db, text, tasks, "olga", "c.yaml")
    assert caught.value.file == "c.yaml" and says in caught.value.problem, str(caught.value)
    if line is not None:
        assert caught.value.line == line, str(caught.value)
    with server.db() as s:
        from palmares.store import Campaign

        assert s.query(Campaign).count() == 1  # the fixture's own, nothing more


@pytest.mark.parametrize("name,text,line,says", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_hostile_task_yaml_is_refused_by_line(
    tmp_path: Path, name: str, text: str, line: int | None, says: str
) -> None:
    task = tmp_path / "task.yaml"
    task.write_text(text, "utf-8")
    with pytest.raises(InputError) as caught:
        load_task(task)
    assert caught.value.file == str(task) and says in caught.value.problem, str(caught.value)
    if line is not None:
        assert caught.value.line == line, str(caught.value)


def test_control_characters_in_a_raw_file_name_are_not_shown(server: Server) -> None:
    """A name sent as raw bytes (a client that does not escape it): terminal escapes, a NUL."""
    name = b"\x1b[31mred\x00\x07.jsonl"
    body = (
        b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
        + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--b0undary--\r\n"
    )  # fmt: skip
    res = TestClient(server.app).post(
        "/api/campaigns/1/tasks/avis-fr/submissions",
        content=body,
        headers={
            "Authorization": f"Bearer {server.token}",
            "Content-Type": "multipart/form-data; boundary=b0undary",
        },
    )
    assert res.status_code == 400, res.text
    message = res.json()["message"]
    assert message.startswith("[31mred.jsonl: ") and "empty" in message, message
    assert not any(ord(c) < 32 for c in message)
    assert server.stored() == NOTHING


def test_a_submission_refused_after_its_checks_stores_no_file(server: Server) -> None:
    """Over quota, a team could still fill the disk with distinct files, each refused."""
    client = TestClient(server.app)
    for blank_lines in (1, 2):  # distinct contents: the quota of 2 is used
        good = Case("good", "p.jsonl", GOOD + b"\n" * blank_lines, ())
        assert _post(client, server, good).status_code == 201
    before = server.stored()["artifact files"]
    for blank_lines in (3, 4):
        refused = Case("refused", "p.jsonl", GOOD + b"\n" * blank_lines, ())
        assert _post(client, server, refused).status_code == 429
    assert server.stored()["artifact files"] == before
