"""``multiple_choice``: the model's log-likelihood of each choice after a shared context.

One request per item holds the context and every choice, so that a backend evaluates the context
once and reuses it for each choice. Empty choices (some translated datasets have them) are left
out; the answer may be given as the choice's index, its text, or its letter (A, B, …).

An answer may also be a mapping ``{"answer": <index, letter or text>, name: value, …}``: the
other keys are the item's *metric fields*, values that a metric needs besides the answer (BBQ's
role of each choice). They are part of the reference, so they are never inputs: no template sees
them (unless it shows ``{{ reference }}``, the answer itself) and a hidden split's downloaded
inputs do not hold them. The scored items keep them next to the answer's index, and the engine
hands them to the metrics (``ChoiceData.item_fields``).
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
        answer, _ = self._answer(items, i)
        way = self.spec.answer_is
        texts = [t for _, t in choices]
        kept = [j for j, _ in choices]
        by_text = texts.index(answer) if isinstance(answer, str) and answer in texts else None
        position = _position(answer, way)
        ambiguous = (
            way == "auto"
            and by_text is not None
            and position in kept
            and kept.index(position) != by_text
        )
        if ambiguous:  # e.g. ARC's option "C" whose answer key is the letter C of another one
            raise InputError(
                f"answer {answer!r} is both the text of choice {by_text} and the letter or "
                f"index of another choice: set the protocol's answer_is (letter, index or text)",
                field=self.spec.answer_field,
                **items.where(i),
            )
        if way in ("auto", "text") and by_text is not None:
            return by_text
        if way != "text" and position is not None and position in kept:
            return kept.index(position)
        raise InputError(
            f"answer {answer!r} is not the {_NAMES[way]} of a non-empty choice",
            field=self.spec.answer_field,
            **items.where(i),
        )

    def _answer(self, items: ItemSet, i: int) -> tuple[Any, dict[str, Any]]:
        """The answer of item ``i`` and its metric fields (none unless given as a mapping)."""
        answer = items.references[i]
        if not isinstance(answer, dict):
            return answer, {}
        if "answer" not in answer:
            raise InputError(
                'an answer given as a mapping names the right choice under "answer": '
                f"got the keys {sorted(answer)}",
                field=self.spec.answer_field,
                **items.where(i),
            )
        return answer["answer"], {str(k): v for k, v in answer.items() if k != "answer"}

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
        """References as the right choice's index, or ``{"answer": index, **metric fields}``
        where the answer came with metric fields."""
        # a metric names the metric fields it reads in its class attribute ``item_fields``
        needed = {
            name: metric.label
            for metric in self.task.metrics()
            for name in getattr(metric, "item_fields", ())
        }
        answers: list[Any] = []
        for i in range(len(items)):
            index = self.answer_index(items, i)
            fields = self._answer(items, i)[1]
            missing = sorted(set(needed) - set(fields))
            if missing:
                raise InputError(
                    f"metric {needed[missing[0]]!r} needs the metric field {missing[0]!r}, "
                    f'given with the answer: {{"answer": ..., "{missing[0]}": ...}}',
                    field=self.spec.answer_field,
                    **items.where(i),
                )
            answers.append({"answer": index, **fields} if fields else index)
        return dataclasses.replace(items, references=answers)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self._shots is not None:
            out["fewshot_ids"] = [self._shots.ids[r] for r in self._shot_rows]
        return out


_NAMES = {"auto": "index, letter or text", "index": "index", "letter": "letter", "text": "text"}


def _position(answer: object, way: str) -> int | None:
    """The choice an answer names by index or by letter, as ``way`` allows; None otherwise."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int) and way in ("auto", "index"):
        return answer
    if not isinstance(answer, str):
        return None
    if answer.isdigit() and way in ("auto", "index"):
        return int(answer)
    if len(answer) == 1 and answer.upper() in _LETTERS and way in ("auto", "letter"):
        return _LETTERS.index(answer.upper())
    return None
