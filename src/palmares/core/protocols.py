"""The keys of each model protocol in a task's ``protocol:`` section (shape only, no I/O).

``predictions`` needs no keys. The others say how items become requests to a model: Jinja2
templates over the item's fields (rendered by ``palmares.engine.protocols``), which fields hold
the choices or the pair, and the generation settings. Whether a template's variables exist in the
data is checked by ``palmares.tasks`` when the task is loaded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Keys(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FewshotSpec(_Keys):
    """Few-shot examples: ``n`` items drawn with ``seed`` from ``split`` (never the scored one)."""

    split: str
    n: int = Field(ge=0, le=64)
    seed: int = 1234
    separator: str = "\n\n"


class MultipleChoiceSpec(_Keys):
    """Each choice scored by log P(choice | context); the most likely one is the answer."""

    type: Literal["multiple_choice"]
    context: str = Field(min_length=1, description="Jinja2 template of the shared context")
    choices_field: str | None = None
    choice_fields: list[str] | None = Field(default=None, min_length=2)
    answer_field: str
    #: how the answer names the right choice; ``auto`` tries its text, its index, its letter
    answer_is: Literal["auto", "index", "letter", "text"] = "auto"
    #: put between the context and each choice (lm-eval's target_delimiter)
    choice_prefix: str = " "
    fewshot: FewshotSpec | None = None

    @model_validator(mode="after")
    def _one_choice_source(self) -> MultipleChoiceSpec:
        if (self.choices_field is None) == (self.choice_fields is None):
            raise ValueError("give exactly one of 'choices_field' or 'choice_fields'")
        return self


class PairsSpec(_Keys):
    """Two sentences scored from the same (possibly empty) context: which is more likely?"""

    type: Literal["pairs"]
    first_field: str
    second_field: str
    context: str = ""


class GenerateSpec(_Keys):
    """Free generation from a prompt (``generate``) or from chat messages (``chat``)."""

    type: Literal["generate", "chat"]
    template: str = Field(min_length=1, description="Jinja2 template of the prompt / user turn")
    system: str | None = Field(default=None, description="system prompt (chat only)")
    #: how a few-shot example's answer is written after its prompt (Jinja2; ``reference`` is its
    #: reference value)
    target: str = " {{ reference }}"
    fewshot: FewshotSpec | None = None
    max_tokens: int = Field(default=64, ge=1, le=32_768)
    stop: list[str] = Field(default_factory=list)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    seed: int = 0
    #: regular expression extracting the answer from the generated text (first group if any)
    extract: str | None = None
    strip: bool = True

    @model_validator(mode="after")
    def _system_only_in_chat(self) -> GenerateSpec:
        if self.system is not None and self.type != "chat":
            raise ValueError("'system' is for the chat protocol only")
        return self


ModelProtocolSpec = MultipleChoiceSpec | PairsSpec | GenerateSpec

PROTOCOL_SPECS: dict[str, type[ModelProtocolSpec]] = {
    "multiple_choice": MultipleChoiceSpec,
    "pairs": PairsSpec,
    "generate": GenerateSpec,
    "chat": GenerateSpec,
}
