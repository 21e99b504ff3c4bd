"""What every page shares: the templates, who is looking (:class:`Viewer`), CSRF checks,
rendering in the visitor's language, redirects.

Sessions: the ``palmares_session`` cookie (HttpOnly, SameSite=Lax, Secure when the settings say
so) holds a session token; the database keeps its hash, its expiry and its CSRF token. Every
form posts a ``csrf`` field: for a session, its CSRF token; before login, the value of the
``palmares_csrf`` cookie (double submit), which a page set when it showed the form. A request
whose ``Origin`` names another site is refused as well.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from palmares.campaigns import is_staff, session_of
from palmares.store import User
from palmares.web.deps import DB
from palmares.web.pages.i18n import DEFAULT, LANGUAGES, labeller, say_stored, translator
from palmares.web.pages.text import language_of, markdown, paragraphs

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "palmares_session"
CSRF_COOKIE = "palmares_csrf"

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
# authored texts: the rules as sanitised Markdown, a description's paragraphs, its language
_env.globals.update(markdown=markdown, paragraphs=paragraphs, language_of=language_of)


class CsrfFailed(Exception):
    """A form came without the token of the page that showed it (or from another site)."""


class LoginRequired(Exception):
    """The page is for signed-in users: the visitor is sent to the login page."""


@dataclass
class Viewer:
    """Who is looking at a page: a signed-in user (with the session's token, which the
    services take like an API token) or an anonymous visitor; the CSRF token of their forms;
    their language."""

    user: User | None
    token: str | None
    csrf: str
    lang: str
    new_csrf_cookie: bool = False
    lang_asked: bool = False

    @property
    def staff(self) -> bool:
        return is_staff(self.user)

    def require(self, request: Request) -> tuple[User, str]:
        """The signed-in user and their session token, or off to the login page."""
        if self.user is None or self.token is None:
            raise LoginRequired(request.url.path)
        return self.user, self.token


def viewer(request: Request, db: DB) -> Viewer:
    asked = request.query_params.get("lang")
    lang = asked if asked in LANGUAGES else request.cookies.get("lang", DEFAULT)
    if lang not in LANGUAGES:
        lang = DEFAULT
    token = request.cookies.get(SESSION_COOKIE)
    found = None
    if token:
        with db() as s:
            found = session_of(s, token)
    if found is not None:
        user, csrf = found
        return Viewer(user, token, csrf, lang, lang_asked=asked in LANGUAGES)
    cookie = request.cookies.get(CSRF_COOKIE)
    csrf = cookie or secrets.token_urlsafe(32)
    return Viewer(None, None, csrf, lang, new_csrf_cookie=not cookie, lang_asked=asked in LANGUAGES)


ViewerDep = Annotated[Viewer, Depends(viewer)]


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None  # a "null" origin (sandboxed frame, file:) is never ours
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def protected(request: Request, seen: ViewerDep) -> Viewer:
    """The viewer of a form post whose CSRF token and origin check out."""
    form = await request.form()  # parsed once: FastAPI's Form() parameters reuse it
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, seen.csrf):
        raise CsrfFailed
    if seen.new_csrf_cookie or not _same_origin(request):
        raise CsrfFailed  # no cookie to compare with: the form was not shown by us
    return seen


Protected = Annotated[Viewer, Depends(protected)]


def render(
    request: Request, seen: Viewer, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    # the language links keep the page's other parameters (phase, part, slice, page…)
    switch = {code: "?" + urlencode([*query, ("lang", code)]) for code in LANGUAGES}
    html = _env.get_template(template).render(
        request_path=request.url.path,
        language_links=switch,
        lang=seen.lang,
        languages=LANGUAGES,
        _=translator(seen.lang),
        label=labeller(seen.lang),
        say_stored=lambda text: say_stored(text, seen.lang),
        viewer=seen,
        user=seen.user,
        csrf=seen.csrf,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    remember(seen, response)
    return response


def remember(seen: Viewer, response: Response) -> None:
    """Set the cookies a page decided on: the chosen language, a new CSRF cookie."""
    if seen.lang_asked:
        response.set_cookie("lang", seen.lang, httponly=True, samesite="lax", max_age=365 * 86400)
    if seen.new_csrf_cookie:
        response.set_cookie(CSRF_COOKIE, seen.csrf, httponly=True, samesite="strict")


def redirect(seen: Viewer, to: str) -> RedirectResponse:
    """After a successful post: see the result with a GET (303)."""
    response = RedirectResponse(to, status_code=303)
    remember(seen, response)
    return response


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site; never an open redirect to another one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_url(path: str) -> str:
    return "/login?next=" + quote(local_path(path), safe="/")
