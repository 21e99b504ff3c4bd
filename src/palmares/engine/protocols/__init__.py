"""Model protocols: how a task's items become requests to a model, and answers predictions."""

from __future__ import annotations

from palmares.core import InputError
from palmares.core.protocols import GenerateSpec, MultipleChoiceSpec, PairsSpec
from palmares.engine.protocols._base import ModelProtocol, item_fields
from palmares.engine.protocols.generate import Generate
from palmares.engine.protocols.multiple_choice import MultipleChoice
from palmares.engine.protocols.pairs import Pairs
from palmares.tasks import Task

_BY_SPEC: dict[type, type[ModelProtocol]] = {
    MultipleChoiceSpec: MultipleChoice,
    PairsSpec: Pairs,
    GenerateSpec: Generate,
}

__all__ = ["Generate", "ModelProtocol", "MultipleChoice", "Pairs", "item_fields", "protocol_for"]


def protocol_for(task: Task, split: str) -> ModelProtocol:
    """The protocol of ``task``, bound to ``split``; a clear error for ``predictions`` tasks."""
    spec = task.protocol
    if spec is not None:
        return _BY_SPEC[type(spec)](task, spec, split)
    raise InputError(
        f"task {task.spec.id!r} has protocol {task.spec.protocol.type!r}: it scores a predictions "
        "file (--predictions), not a model",
        file=task.file,
        field="protocol.type",
    )
