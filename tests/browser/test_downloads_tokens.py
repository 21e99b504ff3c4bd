"""A registered participant downloads the sample submission and the hidden inputs from the task
page, creates an API token on the account page, sees the curl examples, uses the token, then
revokes it (issue #14)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.browser.conftest import EXAMPLE, TASK, Live, log_in, visited

from palmares.tasks import load_task, read_predictions


def test_participant_downloads_and_manages_a_token(
    page: Page, live: Live, campaign: int, tmp_path: Path
) -> None:
    account = live.participant(campaign)
    log_in(page, account, "downloads-01-login")
    page.goto(f"/campaigns/{campaign}/tasks/{TASK}")
    expect(page.locator("#prediction-kind")).to_contain_text("Une étiquette de classe")
    visited(page, "downloads-02-task-page")

    task = load_task(EXAMPLE / "task.yaml")
    with page.expect_download() as sample:
        page.get_by_role("link", name="Exemple test (JSON Lines)").click()
    assert sample.value.suggested_filename == f"{TASK}-test-exemple.jsonl"
    saved = tmp_path / sample.value.suggested_filename
    sample.value.save_as(saved)
    read_predictions(saved, task.items("test"), task.value_kind)  # the upload's own check

    with page.expect_download() as inputs:
        page.get_by_role("link", name="Télécharger les entrées de test (JSON Lines)").click()
    assert inputs.value.suggested_filename == f"{TASK}-test.jsonl"
    rows = [json.loads(line) for line in Path(inputs.value.path()).read_text("utf-8").splitlines()]
    assert len(rows) == len(task.items("test")) and all(set(r) == {"id", "inputs"} for r in rows)

    menu = page.get_by_role("navigation", name="Navigation principale")
    menu.get_by_role("link", name="Jetons d'API").click()
    expect(page).to_have_url(re.compile(r"/account/tokens$"))
    visited(page, "downloads-03-tokens")
    page.get_by_role("button", name="Créer un jeton").click()
    token = page.get_by_label("Jeton", exact=True).input_value()
    assert token.startswith("plm_")
    data_url = f"{live.url}/api/campaigns/{campaign}/tasks/{TASK}/data/test"
    expect(page.locator("#curl-data")).to_contain_text(f"Bearer {token}")
    expect(page.locator("#curl-data")).to_contain_text(data_url)
    expect(page.locator("#curl-submit")).to_contain_text("-F file=@predictions.jsonl")
    visited(page, "downloads-04-token-created")
    bearer = {"Authorization": f"Bearer {token}"}
    assert page.request.get(data_url, headers=bearer).status == 200

    page.goto("/account/tokens")
    expect(page.get_by_label("Jeton", exact=True)).to_have_count(0)  # shown once
    expect(page.locator("main")).not_to_contain_text(token)
    page.locator("#tokens tbody tr").last.get_by_role("button", name="Révoquer").click()
    expect(page.locator("#revoked")).to_contain_text("Jeton révoqué")
    visited(page, "downloads-05-token-revoked")
    assert page.request.get(data_url, headers=bearer).status == 401
