"""Translations: gettext catalogues (``locales/<lang>/LC_MESSAGES/palmares.po``).

Message ids are the French texts (French is the default language); a ``.po`` file per other
language gives the translations. The ``.po`` files are read directly (a small parser of their
``msgid``/``msgstr`` pairs), so no compile step is needed to run from a checkout; the format is
standard, so the usual tools (Poedit, Weblate, ``msgfmt``) work on them.

A second catalogue, ``messages.po``, translates what the lower layers say: their errors keep an
English text and a :class:`palmares.core.Message` (an English template with ``{name}``
placeholders and its parameters). Its msgids are those English templates
(``locales/fr/LC_MESSAGES/messages.po``); :func:`say` translates the template, then formats the
parameters (a parameter that is itself a message is translated too). English is the source
language of that catalogue, so an English page shows the error's own text. The API and the CLI
never translate: their messages stay English.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from palmares.core import InputError, Message

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("fr", "en")
DEFAULT = "fr"


@cache
def catalogue(lang: str, domain: str = "palmares") -> dict[str, str]:
    """The msgid → msgstr pairs of ``locales/<lang>/LC_MESSAGES/<domain>.po`` ({} if none)."""
    path = LOCALES / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return {}
    entries: dict[str, str] = {}
    key: str | None = None
    field = ""
    parts: dict[str, list[str]] = {"msgid": [], "msgstr": []}
    for raw in [*path.read_text("utf-8").splitlines(), ""]:
        line = raw.strip()
        if line.startswith(("msgid ", "msgstr ")):
            field, _, rest = line.partition(" ")
            if field == "msgid" and parts["msgstr"]:
                key = "".join(parts["msgid"])
                if key:
                    entries[key] = "".join(parts["msgstr"]) or key
                parts = {"msgid": [], "msgstr": []}
            parts[field].append(ast.literal_eval(rest))
        elif line.startswith('"') and field:
            parts[field].append(ast.literal_eval(line))
    key = "".join(parts["msgid"])
    if key:
        entries[key] = "".join(parts["msgstr"]) or key
    return entries


def translator(lang: str) -> Callable[[str], str]:
    table = catalogue(lang) if lang != DEFAULT else {}
    return lambda text: table.get(text, text)


#: the source language of the messages the lower layers raise
MESSAGES_SOURCE = "en"


def message_translator(lang: str) -> Callable[[str], str]:
    """English message template → the same template in ``lang`` (itself when not translated)."""
    table = catalogue(lang, "messages") if lang != MESSAGES_SOURCE else {}
    return lambda template: table.get(template, template)


def say(what: Any, lang: str) -> str:
    """What an error, a :class:`Message` or a plain English text says, in ``lang``. An
    :class:`InputError` says where too (file, line, field), with words of ``lang``."""
    if what is None:
        return ""
    if isinstance(what, InputError):
        return located(what, lang)
    message = what if isinstance(what, Message) else getattr(what, "message", None)
    if isinstance(message, Message):
        return message.format(message_translator(lang))
    text = what if isinstance(what, str) else str(what)
    return message_translator(lang)(text)


def problem(error: InputError, lang: str) -> str:
    """The problem an :class:`InputError` tells, in ``lang``, without its location."""
    if error.message is not None:
        return error.message.format(message_translator(lang))
    return message_translator(lang)(error.problem)


def located(error: InputError, lang: str) -> str:
    """``file, line 3: field: problem`` with the words of ``lang``."""
    line = translator(lang)("ligne")
    where = []
    if error.file:
        where.append(error.file)
    if error.line is not None:
        where.append(f"{line} {error.line}")
    colon = " : " if lang == "fr" else ": "
    head = ", ".join(where)
    parts = [p for p in (head, error.field or "", problem(error, lang)) if p]
    return colon.join(parts)


@dataclass(frozen=True)
class Shown:
    """An :class:`InputError` as a page shows it: where, and the problem in the page's
    language."""

    problem: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return self.problem


def shown(error: Any, lang: str) -> Shown | str | None:
    """An error for a template: a :class:`Shown` for an :class:`InputError` (its location kept
    apart), its translated text otherwise; None stays None."""
    if error is None:
        return None
    if isinstance(error, InputError):
        return Shown(problem(error, lang), error.file, error.line, error.field)
    return say(error, lang)


#: every closed set of values that a page shows: value → its French label (a msgid of the page
#: catalogue). A page never shows the raw value: ``label("feedback", "full")`` in a template.
LABELS: dict[str, dict[str, str]] = {
    "phase_kind": {"dev": "développement", "test": "test", "final": "finale"},
    "submission_kind": {
        "predictions": "fichier de prédictions",
        "endpoint": "point d’accès",
        "model_file": "fichier de modèle",
    },
    "feedback": {
        "full": "score complet",
        "rounded": "score arrondi",
        "none": "aucun score avant la fin",
        "ladder": "score publié seulement sur amélioration significative (Ladder)",
    },
    "leaderboard": {
        "public": "classement public",
        "hidden": "classement réservé aux organisateurs jusqu’à la fin",
    },
    "status": {
        "queued": "en attente",
        "running": "en cours",
        "scored": "notée",
        "failed": "échec",
        "done": "terminé",
    },
    "phase_state": {"open": "ouverte", "ended": "terminée", "upcoming": "à venir"},
    "registration": {
        "pending": "en attente d’approbation",
        "approved": "approuvée",
        "refused": "refusée",
    },
    "split": {"public": "publique", "hidden": "cachée"},
    "role": {
        "participant": "participant",
        "organiser": "organisateur",
        "admin": "administrateur",
        "auditor": "auditeur",
    },
    "snapshot_reason": {"phase ended": "fin de la phase"},
    "signup_mode": {"open": "ouverte", "invitation": "sur invitation", "closed": "fermée"},
}


def labeller(lang: str) -> Callable[[str, Any], str]:
    """``label(set, value)`` for the templates: the value's label in ``lang``; a value outside
    its set is shown as it is (it is data, such as a phase kind added later)."""
    translate = translator(lang)

    def label(kind: str, value: Any) -> str:
        text = str(value)
        return translate(LABELS[kind].get(text, text))

    return label


#: the parameters of message templates that are data (ids, numbers, names, quoted values):
#: read back as they are; any other parameter must itself read back through a template
DATA_PARAMS = frozenset(
    (
        "id", "first", "line", "missing", "total", "shown", "file", "mb", "size", "n", "limit",
        "minutes", "max", "min", "width", "code", "position", "fields", "header", "column",
        "name", "task", "campaign", "split", "kind", "phase", "detail", "choose", "challenge",
        "token", "existing", "team", "modes", "format", "named", "holds", "suffix", "submission",
        "pair", "scores", "values",
    )
)  # fmt: skip


#: parameters of a known shape: a hint that follows a problem, literal JSON shapes
_SHAPES = {"hint": r"(?:; .*)?", "shown": r".*?", "pair": r"\{.*\}", "scores": r"\{.*\}"}


@cache
def _patterns(lang: str) -> list[tuple[re.Pattern[str], str]]:
    """The message templates of ``lang``'s catalogue as patterns that read a formatted English
    text back into its parameters: the most specific (longest fixed text) first."""
    found = []
    for template, text in catalogue(lang, "messages").items():
        pieces = re.split(r"{(\w+)}", template)
        fixed = "".join(pieces[0::2])
        regex = "".join(
            re.escape(p)
            if i % 2 == 0
            else f"(?P<{p}>{_SHAPES.get(p, '.*' if p in DATA_PARAMS else '.*?')})"
            for i, p in enumerate(pieces)
        )
        try:
            found.append((len(fixed), re.compile(regex + r"\Z", re.DOTALL), text))
        except re.error:  # a placeholder used twice: not read back
            continue
    found.sort(key=lambda entry: -entry[0])
    return [(pattern, text) for _, pattern, text in found]


def _read_back(text: str, lang: str, depth: int = 0) -> str | None:
    """``text`` (English, formatted from a template) in ``lang``, or None when no template
    reads it back whole."""
    for pattern, translated in _patterns(lang):
        match = pattern.match(text)
        if match is None:
            continue
        params: dict[str, str] = {}
        for key, value in match.groupdict().items():
            told = None if depth > 3 else _read_back(value, lang, depth + 1)
            if told is None and value and key not in DATA_PARAMS:
                break  # a word of English that no template knows: not this template
            params[key] = value if told is None else told
        else:
            try:
                return translated.format(**params)
            except (KeyError, IndexError, ValueError):
                continue
    return None


_STORED_WHERE = re.compile(r"line (\d+): (?:([\w.\[\]-]+): )?(.*)\Z", re.DOTALL)


def say_stored(text: str | None, lang: str) -> str:
    """An English message that was stored as text (a failed run's located file problem,
    ``line 3: prediction: …``), in ``lang``: read back through the catalogue's templates; told
    as it is when no template reads it."""
    if not text or lang == MESSAGES_SOURCE:
        return text or ""
    where = _STORED_WHERE.match(text)
    if where is None:
        return _read_back(text, lang) or text
    line, field, rest = where.groups()
    problem = _read_back(rest, lang)
    if problem is None:
        return text  # told as it is, English whole (the page marks it lang="en")
    colon = " : " if lang == "fr" else ": "
    parts = (f"{translator(lang)('ligne')} {line}", field or "", problem)
    return colon.join(p for p in parts if p)
