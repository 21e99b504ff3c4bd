"""Every page at phone width (390 × 844) and at desktop width (1280 × 900), in French and in
English, as an anonymous visitor, a participant and an organiser: no page is wider than the
window (wide tables scroll inside their own box, figures scale), and the language switch stays
inside the window. Screenshots: ``build/screenshots/width-<width>-<lang>-<page>.png``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import TASK, Account, Live, unique, visited

from palmares.campaigns import create_system

#: how wide the page and the window are, and where the language switch lies
MEASURE = """() => {
  const switcher = document.querySelector('header .languages');
  const box = switcher ? switcher.getBoundingClientRect() : null;
  return {
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    switcher: box && {left: box.left, right: box.right, top: box.top, bottom: box.bottom},
  };
}"""

WIDTHS = {390: 844, 1280: 900}

#: what sticks out on the right, to say in a failure
WIDE = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > window.innerWidth + 0.5 && !el.closest('table, pre, svg')) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(box.right)}`);
    }
  }
  return out.slice(0, 5);
}"""


def _log_in(page: Page, account: Account) -> None:
    page.goto("/login")
    page.locator("#f-name").fill(account.name)  # by id: the labels are in either language
    page.locator("#f-password").fill(account.password)
    page.locator("main form").get_by_role("button").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_fits_the_window(
    browser: Browser, live: Live, campaign: int, width: int, lang: str
) -> None:
    member = live.participant(campaign)
    system = unique("système-de-référence")
    create_system(live.db, member.token, system, description="Un système au nom long")
    run = live.scored(member, campaign, system=system)
    live.scored(live.participant(campaign), campaign)
    newcomer = live.account("participant", team=unique("Équipe nouvelle"), prefix="nouveau")
    organiser = live.account("organiser", prefix="orga")
    board = f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=dev"
    public = {
        "home": "/",
        "challenge": "/challenges/defi-navigateur",
        "campaign": f"/campaigns/{campaign}",
        "task": f"/campaigns/{campaign}/tasks/{TASK}",
        "leaderboard": board + "&part=public",
        "leaderboard-private": board + "&part=private",
        "leaderboard-test": f"/campaigns/{campaign}/tasks/{TASK}/leaderboard?phase=test",
        "login": "/login",
        "signup": "/signup",
        "not-found": "/campaigns/999999",
    }
    pages: list[tuple[Account | None, dict[str, str]]] = [
        (None, public),
        (
            member,
            {
                "campaign": f"/campaigns/{campaign}",
                "submit": f"/campaigns/{campaign}/tasks/{TASK}/submit",
                "submissions": "/submissions",
                "run": f"/submissions/{run}",
                "team": "/team",
                "leaderboard": board,
            },
        ),
        (newcomer, {"register": f"/campaigns/{campaign}/register"}),
        (
            organiser,
            {
                "console": "/console",
                "console-campaign": f"/console/campaigns/{campaign}",
                "console-invitations": "/console/challenges/defi-navigateur/invitations",
                "console-jobs": "/console/jobs",
                "leaderboard": board,
            },
        ),
    ]
    failures: list[str] = []
    measured: list[str] = []
    for account, paths in pages:
        context = browser.new_context(
            base_url=live.url, viewport={"width": width, "height": WIDTHS[width]}
        )
        context.set_default_timeout(10_000)
        server_errors: list[str] = []
        context.on(
            "response",
            lambda r, errors=server_errors: (
                errors.append(f"{r.status} {r.url}") if r.status >= 500 else None
            ),
        )
        page = context.new_page()
        page.goto(f"/?lang={lang}")  # remembered by a cookie
        if account is not None:
            _log_in(page, account)
        role = "visitor" if account is None else "organiser" if account is organiser else "member"
        for name, path in paths.items():
            page.goto(path)
            expect(page.locator("h1")).to_have_count(1)
            seen = page.evaluate(MEASURE)
            label = f"{role}/{name}"
            measured.append(f"{label}: {seen['scroll']} px")
            if seen["scroll"] > seen["inner"]:
                wide = page.evaluate(WIDE)
                failures.append(f"{label}: {seen['scroll']} px in {seen['inner']} px: {wide}")
            box = seen["switcher"]
            if box is None:
                failures.append(f"{label} has no language switch")
            elif box["left"] < 0 or box["right"] > seen["inner"] or box["top"] < 0:
                failures.append(f"{label}: the language switch lies at {box}")
            visited(page, f"width-{width}-{lang}-{role}-{name}")
        context.close()
        assert not server_errors, f"the server failed: {server_errors}"
    print(f"\n{width} px, {lang}:", "; ".join(measured))
    assert not failures, failures
