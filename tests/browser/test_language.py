"""French by default; EN / FR switch the language, which is remembered from page to page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.conftest import SHARED_CAMPAIGN, TASK, visited


def test_language_switch_is_remembered(page: Page, campaign: int) -> None:
    html = page.locator("html")
    h1 = page.get_by_role("heading", level=1)
    page.goto("/")
    expect(html).to_have_attribute("lang", "fr")
    expect(h1).to_have_text("Défis")
    visited(page, "language-01-home-fr")

    page.get_by_role("link", name="EN", exact=True).click()
    expect(html).to_have_attribute("lang", "en")
    expect(h1).to_have_text("Challenges")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    visited(page, "language-02-home-en")

    board = f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=test"
    page.goto(board)  # remembered: still English
    expect(html).to_have_attribute("lang", "en")
    expect(h1).to_contain_text("Leaderboard")
    expect(h1).to_contain_text("(test)")
    visited(page, "language-03-leaderboard-en")

    page.get_by_role("link", name="FR", exact=True).click()
    expect(html).to_have_attribute("lang", "fr")
    expect(h1).to_contain_text("Classement")
    expect(h1).to_contain_text("(test)")  # the switch keeps the page's other parameters
    expect(page).to_have_url(re.compile(r"phase=test"))
    visited(page, "language-04-leaderboard-fr")

    page.goto("/")  # remembered: French again
    expect(html).to_have_attribute("lang", "fr")
    expect(h1).to_have_text("Défis")
    page.get_by_role("link", name="EN", exact=True).click()
    page.get_by_role("link", name=SHARED_CAMPAIGN[1]).click()
    expect(html).to_have_attribute("lang", "en")  # followed a link: still English
    visited(page, "language-05-campaign-en")
