"""Names and descriptions written by participants are shown as text, never run: a team and a
system named like a script, a description carrying an ``onerror`` handler."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Dialog, Page, expect
from tests.browser.conftest import TASK, Live, log_in, visited

from palmares.campaigns import create_system

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"


def test_user_text_is_escaped_everywhere(page: Page, live: Live, campaign: int) -> None:
    member = live.participant(campaign, team=SCRIPT)
    create_system(live.db, member.token, SCRIPT, description=IMAGE, model_card={"base": IMAGE})
    sid = live.scored(member, campaign, system=SCRIPT)

    dialogs: list[str] = []
    blocked: list[str] = []  # a script that reached the page, stopped only by the CSP

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)

    def check(name: str, *texts: str) -> None:
        for text in texts:
            expect(page.get_by_text(text, exact=False).first).to_be_visible()
        # escaped: no element came from the names (the page's own scripts are external)
        expect(page.locator("body script:not([src])")).to_have_count(0)
        expect(page.locator("img[src='x']")).to_have_count(0)
        visited(page, name)

    page.goto(f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=dev")
    expect(page.locator("main table tbody tr", has_text=SCRIPT)).to_have_count(1)
    expect(page.locator("svg.forest")).to_contain_text(SCRIPT)
    check("xss-01-leaderboard-anonymous", SCRIPT)

    log_in(page, member, "xss-02-login")
    page.goto("/team")
    check("xss-03-team", SCRIPT, IMAGE)
    page.goto(f"/submissions/{sid}")
    expect(page.locator("#run-status")).to_have_text("notée")
    check("xss-04-run", SCRIPT)
    page.goto("/submissions")
    check("xss-05-submissions", SCRIPT)
    page.goto(f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=dev")
    check("xss-06-leaderboard-signed-in", SCRIPT)
    page.goto(f"/campaigns/{campaign}/tasks/{TASK}/submit")
    expect(page.locator("#f-system option", has_text=SCRIPT)).to_have_count(1)
    check("xss-07-submit")  # the system among the form's choices

    assert dialogs == [], f"a script ran: {dialogs}"
    assert blocked == [], f"markup from user text reached the page: {blocked}"
