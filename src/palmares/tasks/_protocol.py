"""Checking a task's ``protocol:`` section against its metrics and its data's fields.

The keys' shapes are pydantic models in ``core.protocols``; here we also parse the Jinja2
templates (a syntax error names the key and line) and list the fields they use, so that loading
the items checks those fields exist and keeps them.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from palmares.core import InputError, ValueKind
from palmares.core.protocols import (
    PROTOCOL_SPECS,
    GenerateSpec,
    ModelProtocolSpec,
    MultipleChoiceSpec,
    PairsSpec,
)
from palmares.tasks._yaml import Loc, validate_model

#: which kinds of metric each protocol produces data for
PROTOCOL_KINDS: dict[str, tuple[ValueKind, ...]] = {
    "predictions": (ValueKind.LABEL, ValueKind.TEXT, ValueKind.NUMBER, ValueKind.RANKING),
    "multiple_choice": (ValueKind.CHOICE,),
    "pairs": (ValueKind.PAIR,),
    "generate": (ValueKind.LABEL, ValueKind.TEXT, ValueKind.NUMBER),
    "chat": (ValueKind.LABEL, ValueKind.TEXT, ValueKind.NUMBER),
    "rank": (ValueKind.RANKING,),
    "classify": (ValueKind.LABEL,),
}

#: names a template may use besides the item's fields
_TEMPLATE_NAMES = {"reference", "choices", "loop"}


def template_environment() -> jinja2.Environment:
    """The one Jinja2 environment of task templates: sandboxed (a task file is untrusted input),
    undefined variables are errors, text kept exactly (no trimming of newlines)."""
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )


def parse_protocol(
    raw: dict[str, object], path: Path, lines: dict[Loc, int]
) -> ModelProtocolSpec | None:
    """The validated keys of a model protocol (None for ``predictions`` and others without)."""
    kind = str(raw.get("type", "predictions"))
    model = PROTOCOL_SPECS.get(kind)
    if model is None:
        return None
    return validate_model(model, raw, path, lines, prefix=("protocol",))


def protocol_fields(
    spec: ModelProtocolSpec, file: str, lines: dict[Loc, int]
) -> dict[str, list[str]]:
    """Task key → dataset fields it needs (template variables, choice and pair fields)."""
    fields: dict[str, list[str]] = {}

    def template(key: str, text: str) -> None:
        names = _template_names(text, file, lines.get(("protocol", key)), f"protocol.{key}")
        fields[f"protocol.{key}"] = sorted(names - _TEMPLATE_NAMES)

    if isinstance(spec, MultipleChoiceSpec):
        template("context", spec.context)
        if spec.choices_field is not None:
            fields["protocol.choices_field"] = [spec.choices_field]
        else:
            fields["protocol.choice_fields"] = list(spec.choice_fields or [])
    elif isinstance(spec, PairsSpec):
        template("context", spec.context)
        fields["protocol.first_field"] = [spec.first_field]
        fields["protocol.second_field"] = [spec.second_field]
    elif isinstance(spec, GenerateSpec):
        template("template", spec.template)
        template("target", spec.target)
        if spec.system is not None:
            template("system", spec.system)
    return fields


def _template_names(text: str, file: str, line: int | None, field: str) -> set[str]:
    try:
        ast = template_environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            f"template error: {exc.message}", file=file, line=line, field=field
        ) from None
    return set(jinja2.meta.find_undeclared_variables(ast))


def check_kinds(protocol: str, kind: ValueKind, file: str, line: int | None) -> None:
    allowed = PROTOCOL_KINDS.get(protocol, ())
    if kind not in allowed:
        want = " or ".join(k.value for k in allowed)
        raise InputError(
            f"protocol {protocol!r} needs metrics on {want} data; these metrics are on "
            f"{kind.value} data",
            file=file,
            line=line,
            field="metrics",
        )
