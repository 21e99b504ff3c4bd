"""Login, logout, sign-up, the team page (members, systems with their model cards), and the
account's API tokens (list, create: the secret shown once with ``curl`` examples, revoke)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from palmares.campaigns import (
    Forbidden,
    WebSession,
    create_system,
    is_staff,
    log_in,
    log_out,
    sign_up,
)
from palmares.campaigns.invitations import server_signup_mode, signup_mode
from palmares.campaigns.spec import RegistrationStatus, SignupMode
from palmares.campaigns.throttle import Throttled
from palmares.campaigns.tokens import UnknownToken, issue_token, list_tokens, revoke_token
from palmares.core import InputError, Message
from palmares.store import CampaignTask, Registration, System, Team, User
from palmares.web.deps import DB, SettingsDep, client_address
from palmares.web.errors import NotFound
from palmares.web.pages._base import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Protected,
    Viewer,
    ViewerDep,
    local_path,
    redirect,
    render,
)
from palmares.web.pages.i18n import problem, say

router = APIRouter()
#: a challenge named in the sign-up page's address (``/signup?challenge=…``)
Slug = Annotated[str | None, Query(max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, seen: ViewerDep, settings: SettingsDep, next: str = "/"
) -> HTMLResponse:
    return render(
        request, seen, "login.html", next=local_path(next), name="", error=None,
        signup=settings.signup,
    )  # fmt: skip


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    seen: Protected,
    db: DB,
    settings: SettingsDep,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        made = log_in(
            db, name, password, hours=settings.session_hours, address=client_address(request)
        )
    except Throttled as exc:
        page = render(
            request, seen, "login.html", status=429, next=local_path(next), name=name,
            error=say(exc, seen.lang), signup=settings.signup,
        )  # fmt: skip
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except Forbidden as exc:
        return render(
            request, seen, "login.html", status=401, next=local_path(next), name=name,
            error=say(exc, seen.lang), signup=settings.signup,
        )  # fmt: skip
    return _signed_in(seen, settings, made, local_path(next))


def _signed_in(seen: Protected, settings: SettingsDep, made: WebSession, to: str) -> Response:
    response = redirect(seen, to)
    response.set_cookie(
        SESSION_COOKIE,
        made.token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(CSRF_COOKIE)  # the session carries its own from now on
    return response


@router.post("/logout")
def logout(seen: Protected, db: DB) -> Response:
    if seen.token is not None:
        log_out(db, seen.token)
    response = redirect(seen, "/")
    response.delete_cookie(SESSION_COOKIE)
    return response


def _signup_mode(db: DB, settings: SettingsDep, challenge: str | None) -> SignupMode:
    """How sign-up goes here: the server's switch first, then the challenge's mode (or, on the
    plain page, the rule over every challenge)."""
    if not settings.signup:
        return SignupMode.CLOSED
    with db() as session:
        if challenge:
            try:
                return signup_mode(session, challenge)
            except InputError:
                raise NotFound(
                    Message("no challenge {challenge}", challenge=repr(challenge))
                ) from None
        return server_signup_mode(session)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(
    request: Request, seen: ViewerDep, db: DB, settings: SettingsDep, challenge: Slug = None
) -> HTMLResponse:
    mode = _signup_mode(db, settings, challenge)
    return render(
        request, seen, "signup.html", open=mode is not SignupMode.CLOSED, mode=mode,
        challenge=challenge or "", name="", team="", invitation="", errors={}, error=None,
    )  # fmt: skip


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    seen: Protected,
    db: DB,
    settings: SettingsDep,
    name: Annotated[str, Form()] = "",
    team: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    challenge: Annotated[str, Form(max_length=100)] = "",
    invitation: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    mode = _signup_mode(db, settings, challenge or None)
    if mode is SignupMode.CLOSED:
        raise Forbidden(Message("accounts are created by the organisers on this server"))
    again = {"open": True, "mode": mode, "challenge": challenge, "name": name, "team": team,
             "invitation": invitation}  # fmt: skip
    try:
        made = sign_up(
            db, name, password, team, address=client_address(request),
            per_hour=settings.signup_per_hour, hours=settings.session_hours,
            challenge=challenge or None, invitation=invitation or None,
        )  # fmt: skip
    except InputError as exc:
        return render(
            request, seen, "signup.html", status=400, **again,
            errors={exc.field or "": problem(exc, seen.lang)}, error=problem(exc, seen.lang),
        )  # fmt: skip
    except Throttled as exc:  # nothing was written
        page = render(request, seen, "signup.html", status=429, **again, errors={},
                      error=say(exc, seen.lang))  # fmt: skip
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    return _signed_in(seen, settings, made, "/?welcome=1")  # signed in at once; what next


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, seen: ViewerDep, db: DB) -> HTMLResponse:
    return _team(request, seen, db)


def _team(
    request: Request, seen: ViewerDep, db: DB, status: int = 200, error: InputError | None = None
) -> HTMLResponse:
    user, _ = seen.require(request)
    with db() as s:
        team = s.get(Team, user.team_id) if user.team_id is not None else None
        if team is None:
            raise Forbidden(Message("you are in no team"))
        members = s.scalars(select(User).where(User.team_id == team.id).order_by(User.name)).all()
        systems = s.scalars(select(System).where(System.team_id == team.id).order_by(System.id))
        systems_shown = systems.all()
    told = None if error is None else problem(error, seen.lang)
    errors = {} if error is None else {error.field or "": told}
    return render(
        request, seen, "team.html", status=status, team=team, members=members,
        systems=systems_shown, errors=errors, error=told,
    )  # fmt: skip


@router.post("/team/systems", response_class=HTMLResponse)
def add_system(
    request: Request,
    seen: Protected,
    db: DB,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    base_model: Annotated[str, Form()] = "",
    parameters: Annotated[str, Form()] = "",
    training_data: Annotated[str, Form()] = "",
) -> Response:
    _, token = seen.require(request)
    card = {
        key: value.strip()
        for key, value in (
            ("base_model", base_model),
            ("parameters", parameters),
            ("training_data", training_data),
        )
        if value.strip()
    }
    try:
        if not name.strip() or len(name.strip()) > 100:
            raise InputError(Message("a system's name has 1 to 100 characters"), field="name")
        create_system(db, token, name.strip(), description.strip(), card)
    except InputError as exc:
        return _team(request, seen, db, status=400, error=exc)
    return redirect(seen, "/team")


def _example_target(db: DB, user: User) -> dict[str, str] | None:
    """A campaign task the user may download the hidden inputs of, for the ``curl`` examples:
    of the team's latest approved registration (for staff, of the latest campaign)."""
    with db() as s:
        campaign_id = None
        if user.team_id is not None:
            campaign_id = s.scalar(
                select(Registration.campaign_id)
                .where(
                    Registration.team_id == user.team_id,
                    Registration.status == RegistrationStatus.APPROVED,
                )
                .order_by(Registration.accepted_at.desc(), Registration.id.desc())
                .limit(1)
            )
        query = select(CampaignTask).order_by(CampaignTask.task_id)
        if campaign_id is not None:
            query = query.where(CampaignTask.campaign_id == campaign_id)
        elif is_staff(user):
            query = select(CampaignTask).order_by(CampaignTask.id.desc())
        else:
            return None
        entry = s.scalars(query.limit(1)).first()
    if entry is None:
        return None
    return {"campaign": str(entry.campaign_id), "task": entry.task_id, "split": entry.hidden_split}


def _tokens(
    request: Request, seen: Viewer, db: DB, *, created: str | None = None, status: int = 200,
    error: str | None = None,
) -> HTMLResponse:  # fmt: skip
    user, _ = seen.require(request)
    with db() as s:
        tokens = [t for t in list_tokens(s, user) if t.kind == "api"]
    revoked = request.query_params.get("revoked", "")
    page = render(
        request, seen, "tokens.html", status=status, tokens=tokens, created=created,
        error=error, target=_example_target(db, user),
        revoked=revoked if revoked.isdigit() and created is None else None,
        base_url=str(request.base_url).rstrip("/"),
    )  # fmt: skip
    page.headers["Cache-Control"] = "no-store"  # a new token's text is on the page once
    return page


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, seen: ViewerDep, db: DB) -> HTMLResponse:
    """The user's API tokens: when each was created, its number; never its text."""
    return _tokens(request, seen, db)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(request: Request, seen: Protected, db: DB) -> HTMLResponse:
    """A new API token, its text shown on this answer only (the database keeps its hash)."""
    user, _ = seen.require(request)
    return _tokens(request, seen, db, created=issue_token(db, user))


@router.post("/account/tokens/revoke", response_class=HTMLResponse)
def revoke(
    request: Request, seen: Protected, db: DB, token_id: Annotated[int, Form()] = 0
) -> Response:
    user, _ = seen.require(request)
    try:
        revoke_token(db, user, token_id)
    except UnknownToken as exc:
        return _tokens(request, seen, db, status=404, error=problem(exc, seen.lang))
    return redirect(seen, "/account/tokens?revoked=" + str(token_id))
