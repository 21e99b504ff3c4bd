"""An anonymous visitor reads the public leaderboard and nothing more."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.conftest import TASK, Live, visited

CI = re.compile(r"\[[01]\.\d{3}, [01]\.\d{3}\]")


def test_anonymous_visitor_sees_the_public_board_only(
    page: Page, live: Live, campaign: int
) -> None:
    member = live.participant(campaign)
    team = member.team
    assert team is not None
    live.scored(member, campaign)

    page.goto(f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=dev")
    row = page.locator("main table tbody tr", has_text=team)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(CI)
    expect(page.locator("svg.forest[role=img]")).to_be_visible()
    # the private part is not open while the phase runs: no tab, no link to it
    private = re.compile("privé|private", re.IGNORECASE)
    expect(page.get_by_role("tab", name=private)).to_have_count(0)
    expect(page.get_by_role("link", name=private)).to_have_count(0)
    expect(page.locator("main a[href*='private']")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("publiée à la fin de la phase")
    visited(page, "anonymous-01-leaderboard")

    page.goto(f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=dev&part=private")
    expect(page.locator("main")).to_contain_text("La partie privée est publiée à la fin")
    expect(page.locator("main table")).to_have_count(0)
    visited(page, "anonymous-02-private-part-closed")

    page.goto(f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=test")
    expect(page.locator("main")).to_contain_text("pas public avant sa fin")
    expect(page.locator("main table")).to_have_count(0)
    visited(page, "anonymous-03-test-phase-withheld")

    for path, name in (
        ("/submissions", "anonymous-04-submissions-login"),
        (f"/campaigns/{campaign}/tasks/{TASK}/submit", "anonymous-05-submit-login"),
        (f"/campaigns/{campaign}/register", "anonymous-06-register-login"),
        ("/team", "anonymous-07-team-login"),
    ):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/login\?next=" + re.escape(path) + "$"))
        expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
        visited(page, name)

    response = page.goto("/console")
    assert response is not None
    refused = response.status == 403 or re.search(r"/login\?next=/console$", page.url)
    assert refused, f"/console answered {response.status} at {page.url}"
    expect(page.get_by_label("YAML de la campagne")).to_have_count(0)
    visited(page, "anonymous-08-console-refused")
