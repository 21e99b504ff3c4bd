"""Sample submissions: every id of a split with a placeholder prediction that passes the same
check as an upload (:func:`palmares.tasks.read_predictions`), in JSON Lines and CSV; and what a
prediction looks like for a task (its value kind and protocol), for the task's page.

Who may have a split's sample is who may download the split (:func:`task_data`): a public
split's for everyone, a hidden split's (its ids) for approved teams and staff. A placeholder
never comes from a hidden reference: a label or a text placeholder is drawn from the public
split's references, when there is one, else it is a fixed word.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns.participation import task_data
from palmares.campaigns.service import Forbidden
from palmares.core import Message, ValueKind
from palmares.core.items import label_text
from palmares.core.protocols import MultipleChoiceSpec
from palmares.store import CampaignTask
from palmares.tasks import Task, load_task

#: the value kinds a CSV file can hold (a pair of log-likelihoods cannot be one cell)
CSV_KINDS = frozenset({ValueKind.LABEL, ValueKind.TEXT, ValueKind.NUMBER, ValueKind.CHOICE,
                       ValueKind.RANKING})  # fmt: skip


@dataclass(frozen=True)
class Guide:
    """What a prediction looks like for one task: its value kind, its protocol, the fields the
    choices come from (multiple choice), one example line of each format."""

    kind: ValueKind
    protocol: str
    placeholder: Any
    jsonl_line: str
    csv_lines: str | None  # None: this kind has no CSV form
    choices: str | None  # multiple choice: the field(s) holding the choices


def placeholder(task: Task, public_split: str | None) -> Any:
    """A prediction every item of ``task`` accepts (the same for every item)."""
    kind = task.value_kind
    if kind is ValueKind.CHOICE:
        return 0  # the first (non-empty) choice
    if kind is ValueKind.PAIR:
        return {"first": 0.0, "second": 0.0}
    if kind is ValueKind.NUMBER:
        return 0
    public = [] if public_split is None else list(task.items(public_split).references)
    if kind is ValueKind.LABEL:
        labels = Counter(t for t in map(label_text, public) if t is not None)
        return labels.most_common(1)[0][0] if labels else "label"
    if kind is ValueKind.RANKING:
        relevant: Counter[str] = Counter()
        for ref in public:
            relevant.update(str(d) for d in (ref if isinstance(ref, (list, dict)) else []))
        return [d for d, _ in relevant.most_common(3)] or ["doc-1"]
    numeric = bool(public) and all(_is_number(r) for r in public)
    return "0" if numeric else "réponse"


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(str(value).replace(",", ".").replace(" ", ""))
    except ValueError:
        return False
    return True


def jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def csv_text(records: list[dict[str, Any]], kind: ValueKind) -> str:
    """``id,prediction`` rows; a ranking is its ids separated by spaces."""
    if kind not in CSV_KINDS:
        raise Forbidden(
            Message("a {kind} prediction has no CSV form: use JSON Lines", kind=kind.value)
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "prediction"])
    for r in records:
        value = r["prediction"]
        writer.writerow([r["id"], " ".join(value) if isinstance(value, list) else value])
    return out.getvalue()


def guide(task: Task, public_split: str | None, example_id: str) -> Guide:
    value = placeholder(task, public_split)
    record = [{"id": example_id, "prediction": value}]
    protocol = task.protocol
    choices = None
    if isinstance(protocol, MultipleChoiceSpec):
        choices = protocol.choices_field or ", ".join(protocol.choice_fields or [])
    return Guide(
        kind=task.value_kind,
        protocol=task.spec.protocol.type,
        placeholder=value,
        jsonl_line=jsonl(record).strip(),
        csv_lines=csv_text(record, task.value_kind).strip()
        if task.value_kind in CSV_KINDS
        else None,
        choices=choices,
    )


def sample_submission(
    db: sessionmaker[Session], token: str | None, campaign_id: int, task_id: str, split: str
) -> tuple[list[dict[str, Any]], ValueKind]:
    """Every id of ``split`` with the task's placeholder prediction, and the task's value kind;
    refused as :func:`task_data` refuses the split."""
    ids = [item["id"] for item in task_data(db, token, campaign_id, task_id, split)]
    with db() as session:
        entry = session.scalar(
            select(CampaignTask).where(
                CampaignTask.campaign_id == campaign_id, CampaignTask.task_id == task_id
            )
        )
        assert entry is not None  # task_data found it
        spec_path, public_split = entry.spec_path, entry.public_split
    task = load_task(spec_path)
    value = placeholder(task, public_split)
    return [{"id": i, "prediction": value} for i in ids], task.value_kind
