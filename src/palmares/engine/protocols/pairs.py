"""``pairs``: which of two sentences does the model find more likely (CrowS-Pairs style)?

Both sentences are scored as continuations of the same context (empty by default: from the
start of the text, after BOS where the model has one), in one request so that a backend can share
the context.
"""

from __future__ import annotations

from typing import Any

from palmares.core import InputError, ItemSet
from palmares.core.protocols import PairsSpec
from palmares.core.requests import LoglikRequest, Request, Response
from palmares.engine.protocols._base import ModelProtocol, item_fields


class Pairs(ModelProtocol):
    spec: PairsSpec

    def skip_reason(self, items: ItemSet, i: int) -> str | None:
        # real data has such pairs (CrowS-Pairs-fr line 130): nothing to compare, so leave it out
        for field in (self.spec.first_field, self.spec.second_field):
            value = items.inputs[field][i]
            if not isinstance(value, str) or not value.strip():
                return f"{field} is empty"
        return None

    def _sentence(self, items: ItemSet, i: int, field: str) -> str:
        value = items.inputs[field][i]
        if not isinstance(value, str) or not value.strip():
            raise InputError("expected a non-empty sentence", field=field, **items.where(i))
        return value

    def requests(self, items: ItemSet) -> list[Request]:
        out: list[Request] = []
        for i in range(len(items)):
            context = self.render(
                "context", self.spec.context, item_fields(items, i), items.where(i)
            )
            first = self._sentence(items, i, self.spec.first_field)
            second = self._sentence(items, i, self.spec.second_field)
            out.append(LoglikRequest(context=context, continuations=(first, second)))
        return out

    def prediction(self, items: ItemSet, i: int, response: Response) -> Any:
        assert isinstance(response, tuple)
        return {"first": response[0].logprob, "second": response[1].logprob}
