"""``generate`` and ``chat``: the model writes an answer, which is extracted and scored.

``generate`` sends one prompt (few-shot examples, then the item); ``chat`` sends messages (an
optional system prompt, few-shot examples as user/assistant turns, then the item) through the
model's chat template. The answer is the generated text, stripped, or the first group (else the
whole match) of the ``extract`` regular expression; no match gives an empty answer, which scores
as wrong.
"""

from __future__ import annotations

import re
from typing import Any

from palmares.core import InputError, ItemSet
from palmares.core.protocols import GenerateSpec
from palmares.core.requests import GenerateRequest, Generation, Message, Request, Response
from palmares.engine.protocols._base import ModelProtocol, item_fields
from palmares.tasks import Task


class Generate(ModelProtocol):
    spec: GenerateSpec

    def __init__(self, task: Task, spec: GenerateSpec, split: str) -> None:
        super().__init__(task, spec, split)
        try:
            self._extract = re.compile(spec.extract) if spec.extract else None
        except re.error as exc:
            raise InputError(
                f"invalid regular expression: {exc}",
                file=task.file,
                field="protocol.extract",
            ) from None
        self._shots, self._shot_rows = self.fewshot_items(spec.fewshot)
        self._turns = [self._shot(r) for r in self._shot_rows]

    def _shot(self, r: int) -> tuple[str, str]:
        assert self._shots is not None
        fields, where = item_fields(self._shots, r), self._shots.where(r)
        return (
            self.render("template", self.spec.template, fields, where),
            self.render("target", self.spec.target, fields, where),
        )

    def _request(self, items: ItemSet, i: int) -> GenerateRequest:
        fields, where = item_fields(items, i), items.where(i)
        fields.pop("reference")  # the prompt never sees the answer
        prompt = self.render("template", self.spec.template, fields, where)
        settings: dict[str, Any] = {
            "max_tokens": self.spec.max_tokens,
            "stop": tuple(self.spec.stop),
            "temperature": self.spec.temperature,
            "seed": self.spec.seed,
        }
        if self.spec.type == "generate":
            sep = self.spec.fewshot.separator if self.spec.fewshot else ""
            shots = "".join(q + a + sep for q, a in self._turns)
            return GenerateRequest(prompt=shots + prompt, **settings)
        messages: list[Message] = []
        if self.spec.system is not None:
            messages.append(
                Message("system", self.render("system", self.spec.system, fields, where))
            )
        for q, a in self._turns:
            messages += [Message("user", q), Message("assistant", a.strip())]
        messages.append(Message("user", prompt))
        return GenerateRequest(messages=tuple(messages), **settings)

    def requests(self, items: ItemSet) -> list[Request]:
        return [self._request(items, i) for i in range(len(items))]

    def prediction(self, items: ItemSet, i: int, response: Response) -> Any:
        assert isinstance(response, Generation)
        text = response.text
        if self._extract is not None:
            match = self._extract.search(text)
            text = "" if match is None else (match.group(1) if match.groups() else match.group(0))
        return text.strip() if self.spec.strip else text

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self._shots is not None:
            out["fewshot_ids"] = [self._shots.ids[r] for r in self._shot_rows]
        return out
