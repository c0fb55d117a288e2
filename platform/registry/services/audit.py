"""The registry's one change recorder, and the ledger plumbing its services share.

Every write path of the registry (the YAML apply, the REST API, the admin, the commands) records
its changes through ``ChangeRecorder``: the same snapshot of an object before and after (the
shapes in ``registry.documents.export``, which are also what an export writes), the same list of
changed keys, action names from the catalogue (``vocabulary.ledger_actions``). So the same change
made through any interface gives the same entry; only ``via`` says which interface it came
through. (The idea of NetBox's ``snapshot()`` / ``to_objectchange()``.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit.ledger import Actor, record
from audit.ledger.context import current_actor
from audit.ledger.services import Subject
from registry.models import MonitoredModel
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


def model_ref(model: MonitoredModel | None) -> dict[str, Any] | None:
    """How a ledger payload names a model: its slug and its permanent id."""
    if model is None:
        return None
    return {"slug": model.slug, "uid": str(model.uid)}


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k))


@dataclass
class ChangeRecorder:
    """Collects the entries of one write while its transaction runs and records them together as
    its last step (``record_all``), so that the ledger's lock is held briefly and a rollback
    leaves nothing. ``via`` names the interface ("admin", "api"); None for documents and
    commands, whose operator ``with_operator`` names."""

    actor: Actor
    via: str | None = None
    entries: list[tuple[str, Subject, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def for_user(cls, user: Any, *, via: str | None = None) -> ChangeRecorder:
        return cls(actor=actor_for(user), via=via)

    def created(self, action: str, subject: Subject, after: dict[str, Any], **context: Any) -> None:
        self.add(action, subject, {**context, "before": None, "after": after})

    def changed(
        self, action: str, subject: Subject, before: dict[str, Any], after: dict[str, Any], **context: Any
    ) -> list[str]:
        """Adds an entry when ``after`` differs from ``before``; returns the changed keys."""
        keys = changed_keys(before, after)
        if keys:
            self.add(action, subject, {**context, "before": before, "after": after, "changed": keys})
        return keys

    def add(self, action: str, subject: Subject, payload: dict[str, Any]) -> None:
        if self.via is not None:
            payload = {**payload, "via": self.via}
        self.entries.append((action, subject, payload))

    def record_all(self) -> None:
        for action, subject, payload in self.entries:
            record(action=action, subject=subject, payload=with_operator(payload), actor=self.actor)
        self.entries.clear()


def record_refusal(*, action: str, user: Any, subject: Subject, payload: dict[str, Any]) -> None:
    """Record a refusal. Call it after the refused transaction has rolled back (outside it), or
    the rollback would take the entry with it."""
    record(action=action, subject=subject, payload=with_operator(payload), actor=actor_for(user))
