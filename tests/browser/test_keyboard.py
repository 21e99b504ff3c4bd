"""Keyboard only: from the top of the login page, Tab reaches the name, the password and the
form's button, in that order, and the form works without a mouse."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.conftest import Live, unique, visited

#: the focused element, as "tag#id" or "tag:text"
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const tag = el.tagName.toLowerCase();
  if (el.matches('main form [type="submit"]')) return 'submit';
  return el.id ? `${tag}#${el.id}` : `${tag}:${(el.textContent || '').trim().slice(0, 30)}`;
}"""


def test_login_by_keyboard(page: Page, live: Live) -> None:
    account = live.account("participant", team=unique("Équipe clavier"), prefix="clavier")
    page.goto("/login")
    visited(page, "keyboard-01-login")
    order: list[str | None] = []
    for _ in range(30):
        page.keyboard.press("Tab")
        order.append(page.evaluate(FOCUSED))
        if order[-1] == "input#f-name":
            page.keyboard.type(account.name)
        elif order[-1] == "input#f-password":
            page.keyboard.type(account.password)
        elif order[-1] == "submit":
            break
    assert order[0] == "a:Aller au contenu", f"the skip link comes first: {order}"
    assert order[-1] == "submit", f"Tab never reached the login button: {order}"
    assert order.index("input#f-name") < order.index("input#f-password"), order
    visited(page, "keyboard-02-login-filled")
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile("/login"))
    expect(page.get_by_role("button", name=re.compile("Se déconnecter"))).to_be_visible()
    visited(page, "keyboard-03-signed-in")
