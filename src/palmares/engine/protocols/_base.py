"""What every model protocol does: items → requests, responses → predictions.

A protocol turns each item of a split into one request (grouped so that a backend can share
work: one context, several continuations), and each response into the prediction the task's
metrics score. It also says, for the results file, everything needed to rerun it: templates,
few-shot ids, generation settings.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import jinja2

from palmares.core import InputError, ItemSet
from palmares.core.protocols import FewshotSpec, ModelProtocolSpec
from palmares.core.requests import Request, Response
from palmares.tasks import Task, template_environment


class ModelProtocol(ABC):
    """A protocol bound to a task and the split it scores."""

    def __init__(self, task: Task, spec: ModelProtocolSpec, split: str) -> None:
        self.task = task
        self.spec = spec
        self.split = split
        self._env = template_environment()
        self._templates: dict[str, jinja2.Template] = {}

    @abstractmethod
    def requests(self, items: ItemSet) -> list[Request]:
        """One request per item, in item order."""

    @abstractmethod
    def prediction(self, items: ItemSet, i: int, response: Response) -> Any:
        """Item ``i``'s prediction (what the task's metrics score) from the model's answer."""

    def skip_reason(self, items: ItemSet, i: int) -> str | None:
        """Why item ``i`` cannot be asked at all (an empty sentence in a pair), or None.

        Skipped items are left out of the scores and listed in the results, with their reason.
        """
        return None

    def scored_items(self, items: ItemSet) -> ItemSet:
        """The items as the metrics see them (a multiple-choice answer becomes an index)."""
        return items

    def describe(self) -> dict[str, Any]:
        """The full protocol, for ``results.json``: enough to rerun it."""
        return self.spec.model_dump(mode="json")

    # -- helpers shared by protocols ---------------------------------------------------------

    def render(self, key: str, text: str, fields: Mapping[str, Any], where: dict[str, Any]) -> str:
        template = self._templates.get(text)
        if template is None:
            template = self._templates[text] = self._env.from_string(text)
        try:
            return template.render(**fields)
        except jinja2.TemplateError as exc:
            raise InputError(f"template error: {exc}", field=f"protocol.{key}", **where) from None

    def fewshot_items(self, spec: FewshotSpec | None) -> tuple[ItemSet | None, list[int]]:
        """The few-shot examples: one seeded draw, the same for every item (so that they form a
        prefix shared by all requests, which backends reuse)."""
        if spec is None or spec.n == 0:
            return None, []
        if spec.split == self.split:
            raise InputError(
                f"few-shot examples come from split {spec.split!r}, the split being scored; "
                "draw them from another split",
                file=self.task.file,
                field="protocol.fewshot.split",
            )
        pool = self.task.items(spec.split)
        if spec.n > len(pool):
            raise InputError(
                f"{spec.n} few-shot examples asked, split {spec.split!r} has {len(pool)} items",
                file=self.task.file,
                field="protocol.fewshot.n",
            )
        return pool, sorted(random.Random(spec.seed).sample(range(len(pool)), spec.n))


def item_fields(items: ItemSet, i: int) -> dict[str, Any]:
    """The names a template sees for item ``i``: its input fields and ``reference``."""
    fields = {name: column[i] for name, column in items.inputs.items()}
    fields["reference"] = items.references[i]
    return fields
