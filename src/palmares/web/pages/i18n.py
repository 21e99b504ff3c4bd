"""Translations: gettext catalogues (``locales/<lang>/LC_MESSAGES/palmares.po``).

Message ids are the French texts (French is the default language); a ``.po`` file per other
language gives the translations. The ``.po`` files are read directly (a small parser of their
``msgid``/``msgstr`` pairs), so no compile step is needed to run from a checkout; the format is
standard, so the usual tools (Poedit, Weblate, ``msgfmt``) work on them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("fr", "en")
DEFAULT = "fr"


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = LOCALES / lang / "LC_MESSAGES" / "palmares.po"
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
