"""Ledger plumbing shared by the registry's services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit.ledger import Actor, record
from audit.ledger.context import current_actor
from audit.ledger.services import Subject
from registry.permissions import is_service_account


def actor_for(user: Any) -> Actor:
    if is_service_account(user):
        account = user.service_account
        return Actor.for_service(account.pk, account.name)
    return Actor.for_user(user)


def with_operator(payload: dict[str, Any]) -> dict[str, Any]:
    """On the command line the user whose permissions apply is the actor; the person at the
    shell is named beside them."""
    context = current_actor()
    if context.kind == "operator":
        payload = {**payload, "operator": context.name}
    return payload


@dataclass
class PendingEntries:
    """Entries collected while a transaction writes, recorded together as its last step so that
    the ledger's chain lock is held briefly."""

    actor: Actor
    entries: list[tuple[str, Subject, dict[str, Any]]] = field(default_factory=list)

    def add(self, action: str, subject: Subject, payload: dict[str, Any]) -> None:
        self.entries.append((action, subject, payload))

    def record_all(self) -> None:
        for action, subject, payload in self.entries:
            record(action=action, subject=subject, payload=with_operator(payload), actor=self.actor)


def record_refusal(*, action: str, user: Any, subject: Subject, payload: dict[str, Any]) -> None:
    """Record a refusal. Call it after the refused transaction has rolled back (outside it), or
    the rollback would take the entry with it."""
    record(action=action, subject=subject, payload=with_operator(payload), actor=actor_for(user))
