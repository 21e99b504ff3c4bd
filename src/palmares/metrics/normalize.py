"""Answer normalisation for question answering (exact match, token F1).

Two rules, picked by the task's language (:func:`normalize_answer`):

**English** (and every language other than French) is the official SQuAD v1.1 rule, unchanged:
lowercase, delete ASCII punctuation (``string.punctuation``), replace the articles *a*, *an*,
*the* by a space, collapse whitespace. Scores are then comparable with published SQuAD numbers.

**French** adapts it to French spelling, in this order:

1. Unicode NFC composition, so that ``e`` + combining acute and the precomposed ``é`` are the
   same text (answers copied from PDFs or macOS often arrive decomposed).
2. Lowercase.
3. Elision, *before* punctuation is touched: a word-initial ``l'`` or ``d'`` is deleted together
   with its apostrophe (``l'homme`` → ``homme``, ``d’eau`` → ``eau``). Accepted apostrophes:
   ``'`` (U+0027), ``’`` (U+2019, the typographic one French text mostly uses), ``‘`` (U+2018,
   a frequent autocorrect slip) and ``ʼ`` (U+02BC). Only ``l'`` (le/la) and ``d'`` (de, partitive
   or indefinite) are dropped, because they are the elided forms of the words step 5 removes; the
   other elided clitics (``j'``, ``m'``, ``t'``, ``s'``, ``n'``, ``c'``, ``qu'``) are pronouns,
   negation or conjunctions, which the SQuAD rule does not drop either: their apostrophe just
   becomes a space in step 4 (``qu'il`` → ``qu il``). An apostrophe inside a word is not an
   elision (``aujourd'hui`` → ``aujourd hui``).
4. Punctuation becomes a space: every Unicode punctuation character (categories ``P*``: ``« »``,
   ``…``, ``–``, ``—``, ``¿``…) plus the ASCII symbols of ``string.punctuation`` (``$ + < = >``…),
   so that French removes at least what English removes. Unlike SQuAD, which glues the pieces
   (``don't`` → ``dont``), French separates them: its apostrophes and hyphens join distinct words
   (``peut-être`` and ``peut être`` then match, ``14,2`` and ``14.2`` both give ``14 2``).
5. The articles ``le la les un une des du de au aux`` are removed as whole words: ``lesbienne``,
   ``ledit``, ``Laval``, ``Dupont`` and ``auparavant`` keep their letters.
6. Whitespace (including the no-break spaces of French typography) collapses to single spaces.

Accents are kept. Stripping them would conflate different French words (*ou* "or" and *où*
"where", *a* and *à*, *du* and *dû*, *sur* and *sûr*, *pêcheur* "fisherman" and *pécheur*
"sinner") and would make the article list hit accented words (*là* would become the article
*la*). References in French datasets are written with their accents, and a prediction that drops
them is misspelt.
"""

from __future__ import annotations

import re
import string
import unicodedata

__all__ = [
    "is_french",
    "normalize_answer",
    "normalize_answer_en",
    "normalize_answer_fr",
    "normalize_tokens",
]

_ASCII_PUNCTUATION = frozenset(string.punctuation)
_EN_ARTICLES = re.compile(r"\b(a|an|the)\b")

_APOSTROPHES = "'\u2019\u2018\u02bc"
_FR_ELISION = re.compile(rf"(?<!\w)[ld][{_APOSTROPHES}]")
_FR_ARTICLES = re.compile(r"\b(?:le|la|les|un|une|des|du|de|au|aux)\b")


class _PunctuationToSpace(dict[int, str]):
    """``str.translate`` table mapping punctuation to a space, filled lazily per code point.

    Punctuation is every character of Unicode category ``P*``, the ASCII symbols SQuAD removes,
    and U+02BC (a letter by category, an apostrophe in use). Other characters map to themselves.
    """

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        punct = unicodedata.category(ch).startswith("P") or ch in _ASCII_PUNCTUATION
        value = " " if punct or ch == "\u02bc" else ch
        self[cp] = value
        return value


_FR_PUNCTUATION = _PunctuationToSpace()

_FRENCH_CODES = frozenset({"fr", "fra", "fre", "french", "français", "francais"})


def normalize_answer_en(text: str) -> str:
    """The official SQuAD v1.1 normalisation.

    >>> normalize_answer_en("The Eiffel Tower!")
    'eiffel tower'
    >>> normalize_answer_en("  an U.S. state ")
    'us state'
    >>> normalize_answer_en("don't")
    'dont'
    """
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _ASCII_PUNCTUATION)
    text = _EN_ARTICLES.sub(" ", text)
    return " ".join(text.split())


def normalize_answer_fr(text: str) -> str:
    """French normalisation (see the module docstring for each step and why).

    >>> normalize_answer_fr("L'homme")
    'homme'
    >>> normalize_answer_fr("d’eau")
    'eau'
    >>> normalize_answer_fr("« La Joconde »")
    'joconde'
    >>> normalize_answer_fr("aujourd'hui")
    'aujourd hui'
    >>> normalize_answer_fr("les lesbiennes et ledit contrat")
    'lesbiennes et ledit contrat'
    >>> normalize_answer_fr("Où ?")
    'où'
    """
    text = unicodedata.normalize("NFC", text).lower()
    text = _FR_ELISION.sub("", text)
    text = text.translate(_FR_PUNCTUATION)
    text = _FR_ARTICLES.sub(" ", text)
    return " ".join(text.split())


def is_french(language: str) -> bool:
    """Whether a language tag names French: its primary subtag is ``fr`` (or ``fra``/``fre``).

    >>> is_french("fr"), is_french("fr-CA"), is_french("fr_FR"), is_french("en"), is_french("frr")
    (True, True, True, False, False)
    """
    primary = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    return primary in _FRENCH_CODES


def normalize_answer(text: str, language: str = "en") -> str:
    """Normalise an answer with the rule of ``language``: French for ``fr*``, else SQuAD English.

    >>> normalize_answer("L'Océan Atlantique", "fr")
    'océan atlantique'
    >>> normalize_answer("The Atlantic Ocean", "en")
    'atlantic ocean'
    >>> normalize_answer("The Atlantic Ocean", "de")
    'atlantic ocean'
    """
    return normalize_answer_fr(text) if is_french(language) else normalize_answer_en(text)


def normalize_tokens(text: str, language: str = "en") -> list[str]:
    """The tokens token F1 compares: the normalised answer split on whitespace.

    >>> normalize_tokens("Le président de la République", "fr")
    ['président', 'république']
    """
    return normalize_answer(text, language).split()
