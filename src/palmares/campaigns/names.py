"""Names people choose (users, teams, systems) and the free text of model cards.

A name is shown on public boards, so it must read as what it is: no control characters, no
bidirectional overrides or invisible characters (a trailing U+200B, or U+202E turning
"Premier choix" around), NFC-normalised, and distinct from every other name under a
confusable-insensitive comparison — :func:`name_keys`, which follow the skeleton of Unicode
TR39 (UTS #39, section 4): remove default-ignorable characters, NFKC + casefold, map each
character to one representative of its confusable class. The classes are those of Unicode's
``confusables.txt`` (as shipped by the ``confusable-homoglyphs`` package, single characters),
closed under transitivity. Two names with one key are one name: the database holds the key
under a unique constraint, so concurrent sign-ups cannot both take look-alikes.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from palmares.core import InputError, Message
from palmares.store import System, Team, User

MAX_NAME = 100

#: a user's login name: letters and digits of any script, and . _ - inside (no spaces)
USER_NAME = re.compile(r"^\w(?:[\w.-]{0,98}\w)?$")

#: characters that change how text around them is shown, or hide: bidi embeddings, overrides
#: and isolates, zero-width characters, word joiner, BOM
_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\u180e\u00ad"
)


def _problem(char: str) -> Message | None:
    """Why ``char`` may not appear in a name or a one-line field, or None."""
    if char in _INVISIBLE:
        return Message("an invisible or text-direction character")
    category = unicodedata.category(char)
    if category == "Cc":
        return Message("a control character")
    if category in ("Cs", "Co", "Cn"):
        return Message("an unassigned or private character")
    if category == "Cf":
        return Message("an invisible formatting character")
    if category in ("Zl", "Zp") or (category == "Zs" and char != " "):
        return Message("a line break or a space other than the plain space")
    return None


def clean_text(value: str, field: str, *, multiline: bool = False, max_length: int = 2000) -> str:
    """``value`` NFC-normalised and stripped, or an :class:`InputError` naming ``field`` and
    the first character that may not be there (its code point: it may be invisible)."""
    text = unicodedata.normalize("NFC", value).strip()
    for i, char in enumerate(text):
        if multiline and char in "\n\r\t":
            continue
        why = _problem(char)
        if why is not None:
            problem = Message(
                "{why} (U+{code}) at position {position}",
                why=why, code=f"{ord(char):04X}", position=i + 1,
            )  # fmt: skip
            raise InputError(problem, field=field)
    if len(text) > max_length:
        raise InputError(Message("at most {max} characters", max=max_length), field=field)
    return text


def clean_name(value: str, field: str = "name") -> str:
    """A team or system name: 1 to 100 characters, clean (see :func:`clean_text`), inner runs
    of spaces kept single."""
    text = clean_text(value, field, max_length=MAX_NAME)
    if not text:
        raise InputError(Message("a name has 1 to {max} characters", max=MAX_NAME), field=field)
    if "  " in text:
        raise InputError(Message("two spaces in a row"), field=field)
    return text


def clean_user_name(value: str, field: str = "name") -> str:
    """A login name: a :func:`clean_name` that also matches :data:`USER_NAME`."""
    text = clean_name(value, field)
    if not USER_NAME.match(text):
        raise InputError(
            Message(
                "a user name has letters, digits, '.', '_' and '-' (no spaces; it starts and "
                "ends with a letter or a digit)"
            ),
            field=field,
        )
    return text


def name_keys(name: str) -> tuple[str, str]:
    """The two confusable-insensitive keys of ``name``: the skeleton of its casefolded text
    ("PREMIER" = "premier" = "prеmier" with a Cyrillic е), and the casefolded skeleton of the
    text as written ("lab-I" = "lab-l": a capital I looks like an l, a small i does not).
    Two names clash when either key is the same; each is a unique column."""
    text = "".join(c for c in name if c not in _INVISIBLE and unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFKC", text)
    folded = _skeleton(text.casefold())
    cased = _skeleton(_skeleton(text).casefold())
    return " ".join(folded.split()), " ".join(cased.split())


def keyed(name: str) -> dict[str, str]:
    """The columns of a named row: its name and both keys (``Team(**keyed(name))``)."""
    folded, cased = name_keys(name)
    return {"name": name, "name_key": folded, "name_key_cased": cased}


def _skeleton(text: str) -> str:
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)  # marks apart, so each maps on its own
    return unicodedata.normalize("NFC", "".join(table.get(c, c) for c in decomposed))


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character → the smallest code point of its class."""
    data = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    pairs: dict[str, list[dict[str, str]]] = json.loads(data)
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        root = c
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(c, c) != root:  # path compression
            parent[c], c = root, parent[c]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for source, targets in pairs.items():
        for target in targets:
            a, b = source, target["c"]
            if len(a) == 1 and len(b) == 1:
                union(a, b)
    return {c: find(c) for c in list(parent)}


def look_alike(
    session: Session,
    model: type[User] | type[Team] | type[System],
    name: str,
    team_id: int | None = None,
) -> str | None:
    """The existing name of ``model`` (a user, team, or the team's system) that ``name`` would
    be confused with — the same key — or None. The unique key column settles races."""
    keys = name_keys(name)
    folded, cased = keys
    same = (model.name_key == folded) | (model.name_key_cased == cased) | (model.name == name)
    query = select(model.name).where(same)
    legacy = select(model.name).where(model.name_key.is_(None))  # made before migration 0012
    if model is System:
        query = query.where(System.team_id == team_id)
        legacy = legacy.where(System.team_id == team_id)
    found = session.scalar(query.limit(1))
    if found is not None:
        return found
    for old in session.scalars(legacy):
        if any(a == b for a, b in zip(name_keys(old), keys, strict=True)):
            return old
    return None


def clean_card(card: dict[str, Any]) -> dict[str, Any]:
    """A model card with every text in it clean (one-line fields; ``description`` may span
    lines), keys included; numbers and booleans as they are."""

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, str):
            return clean_text(value, where, multiline=where.endswith("description"))
        if isinstance(value, dict):
            return {
                clean_text(str(k), f"{where}.{k}"): walk(v, f"{where}.{k}")
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v, f"{where}.{i}") for i, v in enumerate(value)]
        return value

    cleaned: dict[str, Any] = walk(card, "model_card")
    return cleaned


@contextmanager
def unique_names(field: str = "name") -> Iterator[None]:
    """Around a transaction that writes names: a look-alike committed meanwhile by a concurrent
    request (the unique key refuses the second) is a refusal, not a server error."""
    try:
        yield
    except IntegrityError:
        raise InputError(
            Message("that name (or one that looks like it) was just taken"), field=field
        ) from None
