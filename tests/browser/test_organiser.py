"""An organiser creates a campaign by pasting its YAML in the console."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.conftest import Live, log_in, open_campaign_yaml, unique, visited


def test_organiser_creates_a_campaign_from_yaml(page: Page, live: Live) -> None:
    organiser = live.account("organiser", prefix="orga")
    log_in(page, organiser, "organiser-01-login")
    page.get_by_role("link", name="Console").click()
    expect(page).to_have_url(re.compile(r"/console$"))
    visited(page, "organiser-02-console")

    slug = unique("printemps")
    title = f"Campagne {slug}"
    # the task path starts from the server's tasks folder
    text = open_campaign_yaml(
        slug, title, task="avis-fr/task.yaml", challenge=("defi-orga", "Défi des organisateurs")
    )
    yaml_box = page.get_by_label("YAML de la campagne")
    broken = text.replace("kind: dev", "kind: devv")  # on line 6
    yaml_box.fill(broken)
    page.get_by_role("button", name="Créer la campagne").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("Campagne refusée")
    expect(error.locator("dd.line")).to_have_text("6")
    expect(error).to_contain_text("devv")
    expect(yaml_box).to_have_value(broken)  # the text is kept, to be fixed in place
    visited(page, "organiser-03-yaml-error")

    yaml_box.fill(text)
    visited(page, "organiser-04-yaml-pasted")
    page.get_by_role("button", name="Créer la campagne").click()
    expect(page.get_by_role("alert")).to_have_count(0)  # no error shown
    expect(page.locator("main")).to_contain_text(title)
    visited(page, "organiser-05-created")

    page.goto("/console")
    expect(page.locator("#campaigns")).to_contain_text(title)
    expect(page.locator("#campaigns")).to_contain_text(slug)
    visited(page, "organiser-06-console-listed")

    page.goto("/")
    expect(page.get_by_role("heading", name="Défi des organisateurs")).to_be_visible()
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("main")).to_contain_text("avis-fr")
    visited(page, "organiser-07-campaign-page")
