"""The audit log: every organiser and participant action and every score, hash-chained.

An event's hash is SHA-256 of the canonical JSON of (previous hash, time, actor, action,
payload). Appending happens inside the action's own transaction and locks the chain's head row
first, so concurrent actions append one after the other and the chain never forks; if the action
rolls back, so does its event. ``verify`` recomputes the chain from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from palmares.core import canonical_json, sha256_hex
from palmares.store import AuditEvent, AuditHead

GENESIS = "0" * 64


def _hash(prev: str, at: datetime, actor: str, action: str, payload: dict[str, Any]) -> str:
    moment = at.astimezone(UTC).isoformat()
    body = {"prev": prev, "at": moment, "actor": actor, "action": action, "payload": payload}
    return sha256_hex(canonical_json(body))


def record(
    session: Session, actor: str, action: str, payload: dict[str, Any], at: datetime | None = None
) -> None:
    """Append an event to the chain, in ``session``'s transaction."""
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(AuditHead).values(id=1, last_hash=GENESIS).on_conflict_do_nothing())
    head = session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    assert head is not None
    digest = _hash(head.last_hash, at, actor, action, payload)
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action=action,
            payload=payload,
            prev_hash=head.last_hash,
            hash=digest,
        )
    )
    head.last_hash = digest


@dataclass(frozen=True)
class Verdict:
    ok: bool
    events: int
    first_bad: int | None = None  # id of the first event whose hash or link is wrong

    def __str__(self) -> str:
        if self.ok:
            return f"✓ audit chain intact: {self.events} events"
        return f"✗ audit chain broken at event {self.first_bad} (of {self.events})"


def verify(db: sessionmaker[Session]) -> Verdict:
    prev = GENESIS
    count = 0
    with db() as session:
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            count += 1
            expected = _hash(prev, event.at, event.actor, event.action, event.payload)
            if event.prev_hash != prev or event.hash != expected:
                return Verdict(False, count, event.id)
            prev = event.hash
        head = session.get(AuditHead, 1)
        if head is not None and head.last_hash != prev:
            return Verdict(False, count, None)
    return Verdict(True, count)
