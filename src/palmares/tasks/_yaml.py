"""YAML reading that remembers where each key is, so errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from palmares.core import InputError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader without aliases, whose scalar errors carry their line.

    An alias (``*name``) can make a tiny file expand to billions of values, or refer to itself;
    a spec never needs one. A scalar the resolver takes for a date, a number or a tagged value
    but cannot build (``2027-02-30``, ``!!float abc``, a 5,000-digit integer) raises a plain
    ValueError in PyYAML, which would escape without a line.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted", mark)
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None


def read_yaml(path: Path) -> tuple[Any, dict[Loc, int]]:
    """Parse a YAML file safely (no Python tags) → (data, {key path: line}).

    Errors (unreadable file, bad encoding, syntax, tags) become :class:`InputError` with a line.
    """
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", file=name) from None
    except UnicodeDecodeError as exc:
        bad = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError("not valid UTF-8 text", file=name, line=bad) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except RecursionError:  # PyYAML composes recursively: a few hundred nested brackets
        raise InputError("invalid YAML: nested too deeply", file=name) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem or exc}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=name) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*loc, str(key_node.value))
            _walk(value_node, key, lines)
            lines[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _walk(child, (*loc, i), lines)


def validate_model(
    model: type[M], data: Any, path: Path, lines: dict[Loc, int], prefix: Loc = ()
) -> M:
    """Validate ``data`` as ``model``; the first error becomes ``file:line: field: problem``.

    ``prefix`` is where ``data`` sits in the file (``("protocol",)`` for that section).
    """
    if not isinstance(data, dict):
        raise InputError("expected a mapping of keys to values at the top level", file=str(path))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A misspelt key also makes the right one "missing": name the misspelling first.
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc: Loc = (*prefix, *err["loc"])
        field = ".".join(str(p) for p in loc) or None
        line = _line_of(loc, lines)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling)"
        raise InputError(msg, file=str(path), line=line, field=field) from None


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())
