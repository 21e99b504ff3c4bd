"""Issue #14's acceptance walk, in French and in English, at desktop (1280 px) and phone (390 px)
width: a newcomer signs up, registers their team to an open campaign (rules rendered as
Markdown), downloads the sample submission (CSV) and the hidden inputs from the task page,
sends a duplicated id and another split's ids (refused in the page's language, naming line,
field and split; nothing counted), then a valid CSV that the worker scores, finds the team on the
leaderboard (rank, direction, verdict, interval), and creates, uses and revokes an API token.

Every page: no horizontal scroll, no 5xx (the ``page`` fixture), no English on a French page
(the detector of ``tests/web/test_french_everywhere.py``), a screenshot under
``build/screenshots/journeys/<lang>-<width>-<step>.png`` and the accessibility basics.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import (
    PASSWORD,
    SCORING_TIMEOUT_S,
    SCREENSHOTS,
    SHARED_CHALLENGE,
    Live,
    unique,
    visited,
)
from tests.web.test_french_everywhere import english_in

from palmares.campaigns import create_campaign
from palmares.tasks import load_task
from palmares.tasks.packs import resolve_task
from palmares.web.pages.i18n import catalogue

#: a pack task with a public split (dev) whose ids are not the hidden split's (test)
TASK = "calcul-fr"
CAMPAIGN = ("parcours", "Parcours complet")
RULES = """\
# Règlement du parcours

- Chaque équipe soumet des prédictions pour la partition `test`.
- Les références du test ne sont **jamais** publiées.

Les organisateurs tranchent les cas imprévus.
"""
WIDTHS = {1280: 900, 390: 844}
#: an interval as the pages print it
CI = re.compile(r"\[[01]\.\d{3}, [01]\.\d{3}\]")
#: the verdicts a leaderboard row may show (French source texts)
VERDICTS = ("meilleur", "non distinguable du meilleur", "significativement sous le n° %s")
#: visible text that the French pages may show as it is (ids, metric, formats)
ALLOWED = (TASK, "exact_number", "JSON Lines", "CSV")


@pytest.fixture(scope="module")
def journey_campaign(live: Live) -> Iterator[int]:
    """An open campaign on ``calcul-fr`` (public split dev, hidden split test) with Markdown
    rules, created as ``palmares campaigns create`` would; its id. The four walks sign up from
    one address: the server allows them more sign-ups an hour than its default 3 meanwhile."""
    now = datetime.now(UTC)

    def day(offset: int) -> str:
        return (now + timedelta(days=offset)).date().isoformat()

    folder = live.folder / "journeys"
    folder.mkdir(exist_ok=True)
    (folder / "rules.md").write_text(RULES, encoding="utf-8")
    path = folder / "campaign.yaml"
    path.write_text(
        f"""\
challenge: {{id: {SHARED_CHALLENGE[0]}, title: "{SHARED_CHALLENGE[1]}"}}
campaign: {{id: {CAMPAIGN[0]}, title: "{CAMPAIGN[1]}", rules: rules.md}}
tasks:
  - {{task: {TASK}, public_split: dev, hidden_split: test}}
phases:
  - {{kind: dev, start: {day(-1)}, end: {day(1)}, quota: {{per_day: 20, total: 20}},
     feedback: full, accepts: [predictions]}}
""",
        encoding="utf-8",
    )
    # the live server's sign-up throttle is set high for every browser test (conftest)
    yield create_campaign(live.db, path)


def translator(lang: str) -> Callable[[str], str]:
    """The page's text for a French source text, in ``lang`` (the site's own catalogue)."""
    table = catalogue("en") if lang == "en" else {}
    return lambda text: table.get(text, text)


@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_journey(
    page: Page, live: Live, journey_campaign: int, tmp_path: Path, lang: str, width: int
) -> None:
    t = translator(lang)
    campaign = journey_campaign
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    (SCREENSHOTS / "journeys").mkdir(parents=True, exist_ok=True)
    name, team = unique("marcheuse"), unique("Équipe Parcours")
    allowed = (*ALLOWED, name, team)

    def seen(step: str) -> None:
        """The checks of every page of the walk, then its screenshot."""
        expect(page.locator("h1")).to_have_count(1)
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll <= inner, f"{page.url}: {scroll} px wide in a {inner} px window"
        assert page.locator("html").get_attribute("lang") == lang, page.url
        if lang == "fr":
            words = english_in(page.content(), allowed)
            assert not words, f"English on the French page {page.url}: {words}"
        visited(page, f"journeys/{lang}-{width}-{step}")

    # 1. sign up
    page.goto(f"/signup?lang={lang}")  # the language is remembered by a cookie
    page.get_by_label(t("Nom d'utilisateur")).fill(name)
    page.get_by_label(t("Nom de l'équipe (nouvelle)")).fill(team)
    page.get_by_label(t("Mot de passe (8 caractères au moins)")).fill(PASSWORD)
    seen("01-signup")
    page.get_by_role("button", name=t("Créer le compte")).click()
    expect(
        page.get_by_role("button", name=re.compile(f"{t('Se déconnecter')}.*{name}"))
    ).to_be_visible()
    seen("02-home-signed-in")

    # 2. register the team: the rules are Markdown, rendered
    page.get_by_role("link", name=CAMPAIGN[1], exact=True).first.click()
    expect(page).to_have_url(re.compile(f"/campaigns/{campaign}$"))
    page.get_by_role("link", name=t("S'inscrire (accepter le règlement)")).click()
    expect(page).to_have_url(re.compile(f"/campaigns/{campaign}/register$"))
    rules = page.locator("#rules")
    expect(rules.get_by_role("heading", name="Règlement du parcours")).to_be_visible()
    expect(rules.locator("li")).to_have_count(2)
    expect(rules.locator("strong")).to_have_text("jamais")
    expect(rules).not_to_contain_text("#")
    expect(rules).not_to_contain_text("**")
    seen("03-register")
    page.get_by_label(t("J'accepte le règlement de la campagne au nom de mon équipe")).check()
    page.get_by_role("button", name=t("Inscrire mon équipe")).click()
    expect(page).to_have_url(re.compile(f"/campaigns/{campaign}$"))
    seen("04-registered")

    # 3. the task page: the sample submission (CSV) and the hidden inputs
    page.goto(f"/campaigns/{campaign}/tasks/{TASK}")
    seen("05-task")
    test_row = page.locator("#splits tbody tr").filter(
        has=page.get_by_role("rowheader", name="test", exact=True)
    )
    with page.expect_download() as sample:
        test_row.get_by_role("link", name="CSV", exact=True).click()
    assert sample.value.suggested_filename == f"{TASK}-test-exemple.csv"
    sample_csv = tmp_path / sample.value.suggested_filename
    sample.value.save_as(sample_csv)
    with page.expect_download() as inputs:
        test_row.get_by_role(
            "link", name=f"{t('Télécharger les entrées de test')} (JSON Lines)"
        ).click()
    hidden = [
        json.loads(line) for line in Path(inputs.value.path()).read_text("utf-8").splitlines()
    ]
    assert all(set(row) == {"id", "inputs"} for row in hidden)

    # 4. three files from the sample: a valid CSV (two answers in three right), a JSON Lines
    # with a duplicated id on line 3, and the dev split's ids
    rows = list(csv.DictReader(io.StringIO(sample_csv.read_text("utf-8"))))
    assert [r["id"] for r in rows] == [r["id"] for r in hidden]
    task = load_task(resolve_task(TASK))
    items = task.items("test")
    for i, row in enumerate(rows):
        if i % 3:
            row["prediction"] = str(items.references[items.index[row["id"]]])
    good = tmp_path / "predictions.csv"
    with good.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["id", "prediction"])
        writer.writeheader()
        writer.writerows(rows)
    records = [{"id": r["id"], "prediction": r["prediction"]} for r in rows]
    duplicated = tmp_path / "doublon.jsonl"
    duplicated.write_text(
        "".join(json.dumps(r) + "\n" for r in [*records[:2], records[1], *records[3:]]),
        encoding="utf-8",
    )
    other = tmp_path / "dev.jsonl"
    other.write_text(
        "".join(json.dumps({"id": i, "prediction": "0"}) + "\n" for i in task.items("dev").ids),
        encoding="utf-8",
    )

    # 5. the submit page: the two bad files are refused, nothing counted
    page.goto(f"/campaigns/{campaign}/tasks/{TASK}/submit")
    quota = page.locator("main p", has_text=t("Soumissions restantes"))
    expect(quota).to_contain_text("20")
    before = quota.inner_text()
    seen("06-submit")
    error = page.get_by_role("alert")
    for sent, line, field, problem, step in (
        (
            duplicated,
            "3",
            "id",
            "identifiant en double" if lang == "fr" else "duplicate id",
            "07-duplicate-refused",
        ),
        (
            other,  # a whole-file problem: no line, no field
            None,
            None,
            "ceux de la partie « dev »" if lang == "fr" else "the dev split's",
            "08-other-split-refused",
        ),
    ):
        page.get_by_label(t("Fichier"), exact=True).set_input_files(sent)
        page.get_by_role("button", name=t("Soumettre le fichier")).click()
        expect(error).to_contain_text(t("Soumission refusée"))
        expect(error).to_contain_text(t("rien n’a été compté."))
        expect(error).to_contain_text(sent.name)
        if line is not None:
            expect(error.locator("dd.line")).to_have_text(line)
        if field is not None:
            expect(error.locator("dd").filter(has_text=re.compile(f"^{field}$"))).to_have_count(1)
        expect(error).to_contain_text(problem)
        expect(quota).to_have_text(before, use_inner_text=True)  # nothing was counted
        seen(step)

    # 6. the valid CSV: accepted, then scored (the run page refreshes itself)
    page.get_by_label(t("Fichier"), exact=True).set_input_files(good)
    page.get_by_role("button", name=t("Soumettre le fichier")).click()
    expect(page).to_have_url(re.compile(r"/submissions/[^/]+$"))
    expect(page.locator("#run-status")).to_have_text(t("notée"), timeout=SCORING_TIMEOUT_S * 1000)
    expect(page.locator("#scores")).to_contain_text(CI)
    seen("09-run-scored")

    # 7. the leaderboard: rank, direction, verdict, interval
    page.goto(f"/campaigns/{campaign}/tasks/{TASK}")
    page.get_by_role("link", name=re.compile(f"^{t('Classement')} ")).first.click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign}/tasks/{TASK}/leaderboard"))
    table = page.locator("main table").filter(has=page.locator("caption"))
    expect(table.locator("caption")).to_contain_text("exact_number ↑")
    expect(table.locator("caption")).to_contain_text(t("plus haut = meilleur"))
    ours = table.locator("tbody tr", has_text=team)
    expect(ours).to_have_count(1)
    expect(ours.locator("td.rank")).to_have_text(re.compile(r"^\d+=?$"))
    expect(ours).to_contain_text(CI)
    verdicts = "|".join(re.escape(t(v).replace("%s", "")) for v in VERDICTS)
    expect(ours.locator("td.verdict")).to_have_text(re.compile(f"^({verdicts})"))
    seen("10-leaderboard")

    # 8. an API token: created (shown once), used once, revoked
    page.goto("/account/tokens")
    seen("11-tokens")
    page.get_by_role("button", name=t("Créer un jeton")).click()
    token = page.get_by_label(t("Jeton"), exact=True).input_value()
    assert token.startswith("plm_")
    seen("12-token-created")
    api = f"{live.url}/api/campaigns/{campaign}/tasks/{TASK}/data/test"
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(api, headers=bearer, trust_env=False).status_code == 200
    page.goto("/account/tokens")
    expect(page.get_by_label(t("Jeton"), exact=True)).to_have_count(0)  # shown once
    expect(page.locator("main")).not_to_contain_text(token)
    page.locator("#tokens tbody tr").last.get_by_role("button", name=t("Révoquer")).click()
    expect(page.locator("#revoked")).to_contain_text(t("Jeton révoqué :"))
    seen("13-token-revoked")
    assert httpx.get(api, headers=bearer, trust_env=False).status_code == 401
