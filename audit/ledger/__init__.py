"""The ledger: append-only, hash-chained, the base layer every app records to.

    from audit.ledger import record
    from vocabulary import ledger_actions

    record(action=ledger_actions.REGISTRY_MODEL_CREATED, subject=model, payload={"after": {...}})

Action names come from the catalogue (vocabulary/ledger_actions.py); any other is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.ledger.context import Actor, ledger_scope

if TYPE_CHECKING:
    from audit.ledger.models import LedgerEntry
    from audit.ledger.services import Subject

__all__ = ("Actor", "ledger_scope", "record")


def record(
    *,
    action: str,
    subject: Subject = None,
    payload: dict[str, Any] | None = None,
    actor: Actor | None = None,
    using: str = "default",
) -> LedgerEntry:
    """Append one entry; call it as the last step of the caller's transaction."""
    from audit.ledger.services import ledger_record

    return ledger_record(action=action, subject=subject, payload=payload, actor=actor, using=using)
