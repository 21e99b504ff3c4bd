"""French and English everywhere (#14): a crawl of every page as visitor, participant and
organiser in French finds no English in the visible text, and the errors a participant meets
(a bad predictions file, a wrong file type, a quota used up, a wrong login, a taken team name, a
bad address) are told in French with their line and field — and in English with ``?lang=en``.
Every message template the code raises has a French translation; rules render as sanitised
Markdown; a datasheet keeps its paragraphs; after sign-up the home page says what to do next."""

from __future__ import annotations

import ast
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.campaigns.test_authz import _setup
from tests.web.test_page_access import PASSWORD, USERS, _pages

from palmares.campaigns import log_in, set_password
from palmares.core import InputError, Message
from palmares.store import Campaign, Phase
from palmares.web.pages.i18n import LABELS, catalogue, say, say_stored
from palmares.web.pages.text import markdown, paragraphs

SRC = Path(__file__).resolve().parents[2] / "src" / "palmares"

#: words and phrases of English that a French page never shows (outside code, data and
#: elements marked ``lang="en"``)
ENGLISH = (
    "the", "and", "of", "is", "are", "was", "your", "you", "with", "this", "that", "from",
    "file", "line", "submission", "submissions", "invalid", "predictions", "expected",
    "missing", "duplicate", "unknown", "not", "found", "wrong", "password", "taken", "reached",
    "nothing", "submitted", "quota reached", "try again", "too many", "phase ended", "queued",
    "running", "scored", "failed", "full", "rounded", "none", "hidden", "model_file",
    "endpoint", "error", "input should be", "send", "which", "must",
)  # fmt: skip
_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w-])")
#: French that looks like a word of ENGLISH ("file" is a queue)
FRENCH_TOO = ("file d'attente", "file d’attente", "File des tâches", "en file")
#: elements whose text is code or data, not the page's words
_SKIP = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "option"}
_VOID = {"br", "img", "input", "meta", "link", "hr", "source", "col", "wbr"}


class _Visible(HTMLParser):
    """The visible text of a page (and its accessible names), less code and English parts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # skipped?
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        skip = (self.stack[-1] if self.stack else False) or tag in _SKIP
        skip = skip or found.get("lang") == "en" or found.get("translate") == "no"
        if not skip:
            for name in ("aria-label", "title", "placeholder", "alt"):
                if found.get(name):
                    self.parts.append(str(found[name]))
        if tag not in _VOID:
            self.stack.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def english_in(html: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The English words a French page shows (``allowed``: user data and names it may show)."""
    parser = _Visible()
    parser.feed(html)
    text = " ".join(parser.parts)
    for name in (*allowed, *FRENCH_TOO):
        text = text.replace(name, " ")
    return sorted(set(_PATTERN.findall(text.lower())))


#: names of the fixture's data, metrics and code identifiers that pages may show as they are
ALLOWED = ("Canary QA", "canary-qa", "lab-a", "lab-b", "alice", "bob", "olga", "audrey",
           "exact_match", "token_f1", "JSON Lines", "OpenAPI")  # fmt: skip


def _clients(tmp_path: Path) -> tuple[TestClient, dict[str, TestClient], str]:
    api, _, sid = _setup(f"sqlite:///{tmp_path / 'fr.db'}", tmp_path)
    app = api.app
    db = app.state.db  # type: ignore[attr-defined]
    clients = {"anonymous": TestClient(app)}
    for who, name in USERS.items():
        set_password(db, name, PASSWORD)
        token = log_in(db, name, PASSWORD).token
        clients[who] = TestClient(app, cookies={"palmares_session": token})
    return api, clients, sid


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_detector_finds_english_and_spares_code_data_and_english_parts() -> None:
    page = (
        "<p>Soumission refusée — rien n'a été compté. Fichier p.jsonl Ligne 1 "
        "Problème invalid JSON: nested too deeply</p>"
    )
    assert english_in(page) == ["invalid"]
    assert english_in("<p>Phase phase ended</p>") == ["phase ended"]
    assert english_in("<p>Ligne 3</p><code>the file</code><div lang='en'>the line</div>") == []
    assert english_in("<p>lab-a: the best</p>", allowed=("lab-a: the best",)) == []


def test_every_page_in_french_has_no_english(tmp_path: Path) -> None:
    _, clients, sid = _clients(tmp_path)
    found = {}
    for path, expected in _pages(sid):
        for who in ("anonymous", "A", "organiser"):
            if expected[who] != 200:
                continue
            res = clients[who].get(path)
            assert res.status_code == 200, (path, who)
            if "text/html" not in res.headers["content-type"]:
                continue  # a download (JSON Lines, CSV)
            words = english_in(res.text, ALLOWED)
            if words:
                found[(path, who)] = words
    assert not found, f"English on French pages: {found}"
    # the same pages in English say something else
    english = clients["A"].get("/campaigns/1?lang=en").text
    assert "Rules" in english or "Phases" in english


def test_participant_errors_in_french_then_english(tmp_path: Path) -> None:
    api, clients, _ = _clients(tmp_path)
    web = clients["A"]
    db = api.app.state.db  # type: ignore[attr-defined]
    url = "/campaigns/1/tasks/canary-qa/submit"
    rows = [{"id": f"q{i}", "prediction": "x"} for i in range(30)]

    def submit(content: bytes, name: str = "p.jsonl", lang: str = "fr") -> str:
        form = web.get(f"{url}?lang={lang}")
        res = web.post(
            url, data={"csrf": _csrf(form.text), "kind": "predictions"},
            files={"file": (name, content)}, follow_redirects=False,
        )  # fmt: skip
        assert res.status_code in (400, 403, 429), res.status_code
        assert english_in(res.text, ALLOWED) == [] if lang == "fr" else True, res.text
        return res.text

    dup = [*rows[:2], rows[1], *rows[2:]]
    duplicated = "".join(json.dumps(r) + "\n" for r in dup).encode()
    french = submit(duplicated)
    assert "identifiant en double &#39;q1&#39; (déjà vu à la ligne 2)" in french
    assert '<dd class="line">3</dd>' in french and "<dd>id</dd>" in french
    english = submit(duplicated, lang="en")
    assert "duplicate id &#39;q1&#39; (first seen on line 2)" in english
    assert '<dd class="line">3</dd>' in english
    # the dev split's ids, sent to the test split
    dev = "".join(json.dumps({"id": f"d{i}", "prediction": "x"}) + "\n" for i in range(5))
    french = submit(dev.encode())
    assert "identifiant inconnu &#39;d0&#39;" in french and "ceux de la partie « dev »" in french
    assert "unknown id &#39;d0&#39;" in submit(dev.encode(), lang="en")
    # a ZIP archive
    french = submit(b"PK\x03\x04" + b"\x00" * 100, name="p.zip")
    assert "une archive ZIP, pas un fichier de prédictions" in french
    english = submit(b"PK\x03\x04" + b"\0" * 9, "p.zip", "en")
    assert "a ZIP archive, not a predictions file" in english
    # the quota used up
    with db.begin() as s:
        for phase in s.scalars(select(Phase)):
            phase.quota_total = 1  # A has submitted once already
    good = "".join(json.dumps(r) + "\n" for r in rows).encode()
    french = submit(good)
    assert "quota atteint : 1 soumission(s) dans cette phase ; rien n&#39;a été soumis" in french
    assert "quota reached: 1 submission(s) in this phase" in submit(good, lang="en")


def test_account_errors_and_bad_addresses_in_french_then_english(tmp_path: Path) -> None:
    _, clients, _ = _clients(tmp_path)
    web = TestClient(clients["anonymous"].app)
    for lang, wrong, taken in (
        ("fr", "nom ou mot de passe incorrect", "une équipe nommée &#39;lab-a&#39; existe déjà"),
        ("en", "wrong name or password", "a team named &#39;lab-a&#39; exists"),
    ):
        page = web.get(f"/login?lang={lang}")
        res = web.post("/login", data={"csrf": _csrf(page.text), "name": "alice",
                                       "password": "not the password"})  # fmt: skip
        assert res.status_code == 401 and wrong in res.text
        page = web.get(f"/signup?lang={lang}")
        res = web.post("/signup", data={"csrf": _csrf(page.text), "name": f"new-{lang}",
                                        "team": "lab-a", "password": PASSWORD})  # fmt: skip
        assert res.status_code == 400 and taken in res.text
        assert 'aria-invalid="true" aria-describedby="e-team"' in res.text
        if lang == "fr":
            assert english_in(res.text, ALLOWED) == []
    bad = web.get("/campaigns/abc?lang=fr")
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]
    assert "paramètre &#39;campaign_id&#39; de l&#39;adresse : un nombre entier est attendu" in (
        bad.text
    )
    assert english_in(bad.text) == []
    english = web.get("/campaigns/abc?lang=en").text
    assert "parameter &#39;campaign_id&#39; of the address" in english
    assert "introuvable" in web.get("/campaigns/9?lang=fr").text
    api = web.get("/api/campaigns/abc")  # the API keeps its English JSON
    assert api.status_code == 422 and api.json()["message"].startswith("path.campaign_id: ")


def test_after_sign_up_the_next_step(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    api, _, _ = _clients(tmp_path)
    db = api.app.state.db  # type: ignore[attr-defined]
    with db.begin() as s:  # the campaign runs now
        for phase in s.scalars(select(Phase)):
            phase.ends_at = datetime.now(UTC) + timedelta(days=30)
        title = s.scalars(select(Campaign.title)).one()
    web = TestClient(api.app)
    page = web.get("/signup")
    res = web.post("/signup", data={"csrf": _csrf(page.text), "name": "zoe", "team": "lab-z",
                                    "password": PASSWORD})  # fmt: skip
    assert res.status_code == 200 and "Compte créé." in res.text
    assert "Prochaine étape : inscrire votre équipe à une campagne." in res.text
    assert f'<a href="/campaigns/1/register">Inscrire mon équipe à {title}</a>' in res.text
    assert "Compte créé." not in web.get("/").text  # said once, after sign-up


def _raised_templates() -> dict[str, str]:
    """Every literal template of a :class:`palmares.core.Message` in the code."""
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text("utf-8")
        imported = re.search(r"from palmares\.core import [^\n]*\bMessage\b", source)
        names = {"Message"} if imported else set()
        if "Message as Text" in source:
            names.add("Text")
        if not names:
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in names
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.setdefault(str(node.args[0].value), str(path.relative_to(SRC)))
    return found


def test_every_message_template_has_a_french_translation() -> None:
    french = catalogue("fr", "messages")
    templates = _raised_templates()
    assert len(templates) > 100
    missing = {t: where for t, where in templates.items() if t not in french}
    assert not missing, f"no French for: {missing}"
    for template, text in french.items():  # the placeholders are the same on both sides
        assert set(re.findall(r"{(\w+)}", template)) == set(re.findall(r"{(\w+)}", text)), template
    english = catalogue("en")
    for kind, labels in LABELS.items():  # every label of a closed set has its English
        for value, label in labels.items():
            assert label in english, (kind, value, label)


def test_messages_translate_their_parameters_and_keep_english_text() -> None:
    error = InputError(
        Message("expected a number, got {got}", got=Message("a string")),
        file="p.jsonl", line=4, field="prediction",
    )  # fmt: skip
    assert str(error) == "p.jsonl:4: prediction: expected a number, got a string"
    french = "p.jsonl, ligne 4 : prediction : un nombre était attendu, reçu : une chaîne"
    assert say(error, "fr") == french
    assert say(error, "en") == "p.jsonl, line 4: prediction: expected a number, got a string"
    assert say(error.located(file="other"), "fr").startswith("p.jsonl, ligne 4")
    assert say("not a template", "fr") == "not a template"  # told as it is


def test_rules_are_sanitised_markdown_and_descriptions_keep_paragraphs() -> None:
    hostile = (
        "# Règles\n\nVoir [le site](https://example.org) et [ceci](javascript:alert(1)).\n\n"
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        '<a href="javascript:alert(2)">clic</a> ![image](https://evil.example/x.png)\n\n'
        "- un\n- deux"
    )
    html = str(markdown(hostile))
    assert (
        "<script" not in html
        and "<img" not in html
        and "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    )
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html.replace("(javascript:alert(1))", "").replace(
        "&quot;javascript:alert(2)&quot;", ""
    )
    assert 'href="javascript' not in html
    assert '<a href="https://example.org" rel="noopener noreferrer">le site</a>' in html
    assert "<h3>Règles</h3>" in html and "<h1" not in html and "<li>un</li>" in html
    text = str(paragraphs("First line\nsecond line\n\nAnother <b>paragraph</b>"))
    assert text == "<p>First line<br>\nsecond line</p>\n<p>Another &lt;b&gt;paragraph&lt;/b&gt;</p>"


def test_a_stored_english_problem_is_read_back_in_french() -> None:
    """A failed run's file problem is stored as English text (the job's error): the run page
    reads it back through the templates, or tells it as it is."""
    stored = "line 3: id: duplicate id 'q1' (first seen on line 2)"
    assert (
        say_stored(stored, "fr")
        == "ligne 3 : id : identifiant en double 'q1' (déjà vu à la ligne 2)"
    )
    assert say_stored(stored, "en") == stored
    hinted = (
        "missing predictions for 5 of 30 items: 'd0', 'd1' …; these ids are the dev split's: "
        "choose “development” (split=public)"
    )
    assert say_stored(hinted, "fr").startswith("il manque les prédictions de 5 items sur 30 : 'd0'")
    assert "ceux de la partie « dev »" in say_stored(hinted, "fr")
    unknown = "line 3: prediction: expected a label, got a list"  # no such template
    assert say_stored(unknown, "fr") == unknown


def test_the_datasheet_marks_an_english_description_and_translates_around_it(
    tmp_path: Path,
) -> None:
    from tests.campaigns.conftest import open_campaign_file

    from palmares.campaigns import create_campaign
    from palmares.web import Settings, create_app

    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'd.db'}", artifacts=str(tmp_path / "a")))
    create_campaign(app.state.db, open_campaign_file(tmp_path))
    page = TestClient(app).get("/campaigns/1/tasks/avis-fr").text
    assert '<div class="description" id="description" lang="en"><p>48 short French' in page
    assert english_in(page, ALLOWED) == []  # the English description is marked, the rest French
    english = TestClient(app).get("/campaigns/1/tasks/avis-fr?lang=en").text
    assert '<div class="description" id="description"><p>48 short French' in english
