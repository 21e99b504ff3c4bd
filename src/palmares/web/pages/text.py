"""Texts that organisers and task authors write, as pages show them: a campaign's rules as
Markdown (sanitised), a task's description with its paragraphs, and the language of such a text
when it can be told (``lang`` attribute).

Rules are rendered by markdown-it-py (installed with rich) with raw HTML off: any tag in the
text is escaped and shown as text; links keep only the schemes markdown-it allows (no
``javascript:``, ``vbscript:``, ``file:``, ``data:``) and get ``rel="noopener noreferrer"``;
images are not rendered (a page loads nothing from elsewhere); headings are moved down under
the page's own (a page has one ``<h1>``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

#: the level a rules text's ``#`` heading takes on a page (the rules sit under an ``<h2>``)
HEADING_SHIFT = 2


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_block", "html_inline"])

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        token.attrSet("rel", "noopener noreferrer")
        return str(renderer.renderToken(tokens, idx, options, env))

    def heading(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        level = min(6, int(token.tag[1]) + HEADING_SHIFT)
        token.tag = f"h{level}"
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("heading_open", heading)
    md.add_render_rule("heading_close", heading)
    return md


def markdown(text: str | None) -> Markup:
    """``text`` (Markdown) as safe HTML: no raw HTML, no script, safe links only."""
    if not text:
        return Markup("")
    return Markup(_markdown().render(text))


def paragraphs(text: str | None) -> Markup:
    """``text`` with its paragraphs (blank lines) and line breaks kept, everything escaped.
    YAML's folded scalars (``>``) already join the lines of a paragraph."""
    if not text:
        return Markup("")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in b.splitlines()))
        for b in blocks
    )


_ENGLISH = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "is",
        "are",
        "with",
        "for",
        "this",
        "that",
        "from",
        "each",
        "which",
        "by",
        "on",
        "be",
        "not",
        "an",
        "its",
    ]
)
_FRENCH = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "et",
        "est",
        "sont",
        "avec",
        "pour",
        "ce",
        "cette",
        "du",
        "une",
        "un",
        "au",
        "aux",
        "par",
        "sur",
    ]
)


def language_of(text: str | None) -> str | None:
    """``"en"`` or ``"fr"`` when the text's common words plainly say so, else None (a short or
    mixed text: the page's language is then kept)."""
    if not text:
        return None
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    english = sum(w in _ENGLISH for w in words)
    french = sum(w in _FRENCH for w in words)
    if english >= 3 and english > 2 * french:
        return "en"
    if french >= 3 and french > 2 * english:
        return "fr"
    return None
