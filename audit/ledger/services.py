"""Appending to the ledger.

``ledger_record`` is the one write path. It takes the chain lock, reads the head and inserts
head + 1 inside the caller's transaction, so a rollback leaves no gap and two writers never fork
the chain. Callers make it the last step of their transaction: the lock is held until commit.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, models, transaction
from django.utils import timezone

from audit.ledger.context import Actor, current_actor, current_correlation_id
from audit.ledger.hashing import GENESIS_HASH, canonical_bytes, entry_hash
from audit.ledger.models import LedgerEntry
from vocabulary.ledger_actions import check_action

# Any fixed 64-bit key will do; it only has to be the same for every writer.
CHAIN_LOCK_KEY = 0x466C656574  # "Fleet"

Subject = models.Model | tuple[str, object] | None


def subject_reference(subject: Subject) -> tuple[str, str]:
    if subject is None:
        return "", ""
    if isinstance(subject, models.Model):
        return subject._meta.label_lower, str(subject.pk)
    subject_type, subject_id = subject
    return subject_type, str(subject_id)


def _lock_chain(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # SQLite: the connection begins transactions IMMEDIATE, which already serialises writers.


def ledger_record(
    *,
    action: str,
    subject: Subject = None,
    payload: dict[str, Any] | None = None,
    actor: Actor | None = None,
    using: str = "default",
) -> LedgerEntry:
    check_action(action)  # only names from the catalogue, so a filter on a name finds every act
    payload = payload if payload is not None else {}
    canonical_bytes(payload)  # refuse a bad payload before taking the lock
    actor = actor or current_actor()
    subject_type, subject_id = subject_reference(subject)
    correlation_id = current_correlation_id()

    with transaction.atomic(using=using):
        _lock_chain(using)
        head = (
            LedgerEntry.objects.using(using)
            .order_by("-sequence")
            .values_list("sequence", "entry_hash")
            .first()
        )
        sequence, previous_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        entry = LedgerEntry(
            sequence=sequence,
            previous_hash=previous_hash,
            recorded_at=timezone.now(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            correlation_id=correlation_id,
            payload=payload,
        )
        entry.entry_hash = entry_hash(
            previous_hash=previous_hash,
            sequence=sequence,
            recorded_at=entry.recorded_at,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            correlation_id=correlation_id,
            payload=payload,
        )
        entry.save(using=using)
    return entry
