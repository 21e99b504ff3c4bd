"""A participant signs up, registers their team, submits a broken file then the baseline,
follows the run until it is scored, and finds their team on the leaderboard."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.browser.conftest import (
    BASELINE,
    PASSWORD,
    SCORING_TIMEOUT_S,
    SHARED_CAMPAIGN,
    TASK,
    Live,
    shot,
    unique,
    visited,
)

#: an interval as the pages print it
CI = re.compile(r"\[[01]\.\d{3}, [01]\.\d{3}\]")


def broken_predictions(folder: Path) -> Path:
    """The baseline with line 3's ``prediction`` field missing."""
    lines = BASELINE.read_text("utf-8").splitlines()
    lines[2] = '{"id": "avis-003"}'
    path = folder / "predictions-cassees.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_participant_signs_up_submits_and_is_ranked(
    page: Page, live: Live, campaign: int, tmp_path: Path
) -> None:
    name, team = unique("participante"), unique("Équipe Navigateur")
    page.goto("/signup")
    page.get_by_label("Nom d'utilisateur").fill(name)
    page.get_by_label("Nom de l'équipe (nouvelle)").fill(team)
    page.get_by_label("Mot de passe (8 caractères au moins)").fill(PASSWORD)
    visited(page, "participant-01-signup")
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("button", name=re.compile(f"Se déconnecter.*{name}"))).to_be_visible()
    # the next step is said, with a link to register the team to the running campaign
    expect(page.get_by_role("status")).to_contain_text("Prochaine étape")
    expect(
        page.get_by_role("link", name=f"Inscrire mon équipe à {SHARED_CAMPAIGN[1]}")
    ).to_be_visible()
    visited(page, "participant-02-home-signed-in")

    page.get_by_role("link", name=SHARED_CAMPAIGN[1], exact=True).click()
    expect(page).to_have_url(re.compile(f"/campaigns/{campaign}$"))
    visited(page, "participant-03-campaign")
    page.get_by_role("link", name="S'inscrire").click()
    expect(page).to_have_url(re.compile(f"/campaigns/{campaign}/register$"))
    visited(page, "participant-04-register")
    rules = page.get_by_label("J'accepte le règlement de la campagne au nom de mon équipe")
    rules.check()
    page.get_by_role("button", name="Inscrire mon équipe").click()
    expect(page).to_have_url(re.compile(f"/campaigns/{campaign}$"))
    visited(page, "participant-05-registered")

    page.get_by_role("link", name="Soumettre").first.click()
    expect(page).to_have_url(re.compile(f"/campaigns/{campaign}/tasks/{TASK}/submit$"))
    quota = page.locator("main p", has_text="Soumissions restantes")
    expect(quota).to_contain_text("50 aujourd'hui")
    before = quota.inner_text()
    visited(page, "participant-06-submit")

    broken = broken_predictions(tmp_path)
    page.get_by_label("Fichier", exact=True).set_input_files(broken)
    page.get_by_role("button", name="Soumettre le fichier").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("Soumission refusée")
    expect(error).to_contain_text(broken.name)  # the file as sent
    expect(error.locator("dd.line")).to_have_text("3")  # the line
    expect(error).to_contain_text("prediction")  # the field
    expect(quota).to_have_text(before, use_inner_text=True)  # nothing was counted
    visited(page, "participant-07-line-error")

    page.get_by_label("Fichier", exact=True).set_input_files(BASELINE)
    page.get_by_role("button", name="Soumettre le fichier").click()
    expect(page).to_have_url(re.compile(r"/submissions/[^/]+$"))
    shot(page, "participant-08-run-submitted")  # checked below, once it stops refreshing
    # the page refreshes itself until the worker has scored the run
    expect(page.locator("#run-status")).to_have_text("notée", timeout=SCORING_TIMEOUT_S * 1000)
    scores = page.locator("#scores")
    expect(scores).to_contain_text("IC à 95 %")
    expect(scores.locator("tbody tr").first).to_contain_text(CI)
    visited(page, "participant-09-run-scored")

    page.goto(f"/campaigns/{campaign}")
    page.get_by_role("link", name="Classement développement").first.click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign}/tasks/{TASK}/leaderboard"))
    row = page.locator("main table tbody tr", has_text=team)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(CI)
    plot = page.locator("svg.forest[role=img]")
    expect(plot).to_be_visible()
    expect(plot).to_contain_text(team)
    visited(page, "participant-10-leaderboard")

    expect(page.get_by_role("link", name="Console")).to_have_count(0)
    response = page.goto("/console")
    assert response is not None and response.status == 403
    visited(page, "participant-11-console-forbidden")
