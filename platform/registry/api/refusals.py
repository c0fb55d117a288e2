"""Who is calling, and the ledger entry for a write the API refused."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework.request import Request

from audit.ledger import Actor, record
from registry.models import ServiceAccount
from registry.permissions import has_role
from vocabulary import ledger_actions
from vocabulary.roles import ALL_ROLES

REFUSED = ledger_actions.API_REFUSED


def caller_actor(request: Request) -> Actor:
    """The ledger's name for the caller: the service account for a token, else the user."""
    account = request.auth
    if isinstance(account, ServiceAccount):
        return Actor.for_service(account.pk, account.name)
    return Actor.for_user(request.user)


def caller_role(user: Any) -> str:
    roles = [role for role in ALL_ROLES if has_role(user, role)]
    return ", ".join(roles) or "none"


def refusal_record(*, request: Request, status: int, reason: str, subject: Model | None) -> None:
    """Record a refused write. Called outside any transaction of the request (the API runs
    without ATOMIC_REQUESTS), so the entry is committed although the request failed. The payload
    names the request and the rule, never the submitted data."""
    record(
        action=REFUSED,
        subject=subject,
        actor=caller_actor(request),
        payload={
            "method": request.method or "",
            "path": request.path,
            "role": caller_role(request.user),
            "status": status,
            "reason": reason,
        },
    )
