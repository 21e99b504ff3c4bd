"""Errors. An :class:`InputError` always says where: file, line and field."""

from __future__ import annotations


class PalmaresError(Exception):
    """Base class of every error Palmarès raises on purpose."""


class InputError(PalmaresError):
    """Bad input from a user: a task file, a dataset, a predictions file.

    Rendered as ``file:line: field: problem`` (parts that are unknown are left out), so that an
    editor or a terminal can jump to the spot. The CLI exits with status 2 on it.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def located(self, *, file: str | None = None, line: int | None = None) -> InputError:
        """A copy with the file (and line) filled in where they were not known yet."""
        return InputError(
            self.problem,
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
