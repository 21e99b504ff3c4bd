"""``multiple_choice``: the model's log-likelihood of each choice after a shared context.

One request per item holds the context and every choice, so that a backend evaluates the context
once and reuses it for each choice. Empty choices (some translated datasets have them) are left
out; the answer may be given as the choice's index, its text, or its letter (A, B, …).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from palmares.core import InputError, ItemSet
from palmares.core.protocols import MultipleChoiceSpec
from palmares.core.requests import LoglikRequest, Request, Response
from palmares.engine.protocols._base import ModelProtocol, item_fields
from palmares.tasks import Task

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class MultipleChoice(ModelProtocol):
    spec: MultipleChoiceSpec

    def __init__(self, task: Task, spec: MultipleChoiceSpec, split: str) -> None:
        super().__init__(task, spec, split)
        self._shots, self._shot_rows = self.fewshot_items(spec.fewshot)
        self._prefix = self._fewshot_prefix()

    def _choices(self, items: ItemSet, i: int) -> list[tuple[int, str]]:
        """(position in the item's own list, text) of each non-empty choice."""
        if self.spec.choices_field is not None:
            raw = items.inputs[self.spec.choices_field][i]
            if not isinstance(raw, list):
                raise InputError(
                    f"choices must be a list, got {type(raw).__name__}",
                    field=self.spec.choices_field,
                    **items.where(i),
                )
        else:
            raw = [items.inputs[f][i] for f in self.spec.choice_fields or []]
        choices = [(j, str(c)) for j, c in enumerate(raw) if c is not None and str(c).strip()]
        if len(choices) < 2:
            raise InputError(
                "fewer than two non-empty choices",
                field=self.spec.choices_field or "choice_fields",
                **items.where(i),
            )
        return choices

    def answer_index(self, items: ItemSet, i: int) -> int:
        """Index of the right choice among the non-empty ones."""
        choices = self._choices(items, i)
        answer = items.references[i]
        position: int | None = None
        if isinstance(answer, int) and not isinstance(answer, bool):
            position = answer
        elif isinstance(answer, str):
            texts = [t for _, t in choices]
            if answer in texts:
                return texts.index(answer)
            if answer.isdigit():
                position = int(answer)
            elif len(answer) == 1 and answer.upper() in _LETTERS:
                position = _LETTERS.index(answer.upper())
        kept = [j for j, _ in choices]
        if position is None or position not in kept:
            raise InputError(
                f"answer {answer!r} is not the index, letter or text of a non-empty choice",
                field=self.spec.answer_field,
                **items.where(i),
            )
        return kept.index(position)

    def _context(self, items: ItemSet, i: int) -> str:
        return self.render("context", self.spec.context, item_fields(items, i), items.where(i))

    def _fewshot_prefix(self) -> str:
        if self._shots is None:
            return ""
        shots = []
        for r in self._shot_rows:
            right = self._choices(self._shots, r)[self.answer_index(self._shots, r)][1]
            shots.append(self._context(self._shots, r) + self.spec.choice_prefix + right)
        assert self.spec.fewshot is not None
        sep = self.spec.fewshot.separator
        return sep.join(shots) + sep

    def requests(self, items: ItemSet) -> list[Request]:
        return [
            LoglikRequest(
                context=self._prefix + self._context(items, i),
                continuations=tuple(
                    self.spec.choice_prefix + t for _, t in self._choices(items, i)
                ),
            )
            for i in range(len(items))
        ]

    def prediction(self, items: ItemSet, i: int, response: Response) -> Any:
        assert isinstance(response, tuple)
        choices = self._choices(items, i)
        return {
            "logliks": [c.logprob for c in response],
            # lm-eval divides by the choice's own length, without the prefix
            "chars": [len(t) for _, t in choices],
            "tokens": [c.n_tokens for c in response],
        }

    def scored_items(self, items: ItemSet) -> ItemSet:
        answers = [self.answer_index(items, i) for i in range(len(items))]
        return dataclasses.replace(items, references=answers)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self._shots is not None:
            out["fewshot_ids"] = [self._shots.ids[r] for r in self._shot_rows]
        return out
