"""Errors. An :class:`InputError` always says where: file, line and field.

An error's text is English (the CLI, the API and the logs read it). Where a person may read it
on a page in another language, the error also keeps a :class:`Message`: its English template
with ``{name}`` placeholders and the parameters, which the web layer translates through its own
catalogue (``web/pages/locales/<lang>/LC_MESSAGES/messages.po``, English msgids) before
formatting the parameters; the core knows nothing of languages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Message:
    """An English message template and its parameters: ``str()`` is the English text.

    A parameter may itself be a :class:`Message` (translated in turn)."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params: Mapping[str, Any] = params

    def format(self, translate: Any = None) -> str:
        """The text, with ``translate`` (template -> template) applied to this template and to
        every nested message's; a template that does not format falls back to English."""
        template = self.template if translate is None else translate(self.template)
        params = {
            k: v.format(translate) if isinstance(v, Message) else v for k, v in self.params.items()
        }
        for text in (template, self.template):
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                continue
        return self.template

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"Message({self.template!r}, **{dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.template, dict(self.params)) == (
            other.template,
            dict(other.params),
        )

    def __hash__(self) -> int:
        return hash(self.template)


class PalmaresError(Exception):
    """Base class of every error Palmarès raises on purpose. Raised with a :class:`Message`,
    it keeps it (``message``) and its text is the English one."""

    message: Message | None = None

    def __init__(self, *args: Any) -> None:
        if args and isinstance(args[0], Message):
            self.message = args[0]
            args = (str(args[0]), *args[1:])
        super().__init__(*args)


class InputError(PalmaresError):
    """Bad input from a user: a task file, a dataset, a predictions file.

    Rendered as ``file:line: field: problem`` (parts that are unknown are left out), so that an
    editor or a terminal can jump to the spot. The CLI exits with status 2 on it.
    """

    def __init__(
        self,
        problem: str | Message,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = problem if isinstance(problem, Message) else None
        self.problem = str(problem)
        self.file = file
        self.line = line
        self.field = field
        Exception.__init__(self, str(self))

    def located(self, *, file: str | None = None, line: int | None = None) -> InputError:
        """A copy with the file (and line) filled in where they were not known yet."""
        return InputError(
            self.message or self.problem,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            field=self.field,
        )

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.problem}"
