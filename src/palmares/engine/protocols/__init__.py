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


def protocol_for(task: Task, split: str, seed: int | None = None) -> ModelProtocol:
    """The protocol of ``task``, bound to ``split``; a clear error for ``predictions`` tasks.

    ``seed`` (the CLI's ``--seed``) replaces the task's few-shot and sampling seeds.
    """
    spec = task.protocol
    if spec is not None and seed is not None:
        update: dict[str, object] = {}
        fewshot = getattr(spec, "fewshot", None)
        if fewshot is not None:
            update["fewshot"] = fewshot.model_copy(update={"seed": seed})
        if isinstance(spec, GenerateSpec):
            update["seed"] = seed
        spec = spec.model_copy(update=update)
    if spec is not None:
        return _BY_SPEC[type(spec)](task, spec, split)
    raise InputError(
        f"task {task.spec.id!r} has protocol {task.spec.protocol.type!r}: it scores a predictions "
        "file (--predictions), not a model",
        file=task.file,
        field="protocol.type",
    )
