"""``/api/tokens``: the caller's own API tokens and browser sessions — list, issue, revoke.

A listed token shows its id, kind and dates, never its text nor its hash; a new token's text is
returned once, at creation. Revoking the token in use is allowed (a client that leaked it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from palmares.campaigns.tokens import UnknownToken, issue_token, list_tokens, revoke_token
from palmares.web.deps import DB, CurrentUser, SessionDep
from palmares.web.errors import NotFound
from palmares.web.routers._params import Id

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


@router.get("")
def get_tokens(s: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return {
        "tokens": [
            {
                "id": t.id,
                "kind": t.kind,
                "created_at": t.created_at.isoformat(),
                "expires_at": None if t.expires_at is None else t.expires_at.isoformat(),
            }
            for t in list_tokens(s, user)
        ]
    }


@router.post("", status_code=201)
def post_token(db: DB, user: CurrentUser) -> dict[str, Any]:
    return {"token": issue_token(db, user), "shown": "once: store it now"}


@router.delete("/{token_id}", status_code=204)
def delete_token(token_id: Id, db: DB, user: CurrentUser) -> Response:
    try:
        revoke_token(db, user, token_id)
    except UnknownToken as exc:
        raise NotFound(str(exc)) from exc
    return Response(status_code=204)
