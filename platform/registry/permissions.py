"""Who may see and change what in the registry: one place, used by the admin, the API and the
command line alike.

- model risk: sees and changes every model; approves policy exceptions.
- model owner: sees and changes the models of the teams (groups) they belong to.
- auditor: sees everything, changes nothing.
- service account: sees the models its token is scoped to; writes only data for them (and
  external events that touch them), never the inventory.
A superuser is treated as model risk.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from registry.models import MonitoredModel
from vocabulary.roles import AUDITOR, MODEL_OWNER, MODEL_RISK, SERVICE_ACCOUNT


def has_role(user: Any, role: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if role == MODEL_RISK and user.is_superuser:
        return True
    return user.groups.filter(name=role).exists()


def is_service_account(user: Any) -> bool:
    return hasattr(user, "service_account") and has_role(user, SERVICE_ACCOUNT)


def visible_models(user: Any) -> QuerySet[MonitoredModel]:
    everything = MonitoredModel.objects.all()
    if has_role(user, MODEL_RISK) or has_role(user, AUDITOR):
        return everything
    if is_service_account(user):
        account = user.service_account
        if not account.is_active:
            return everything.none()
        return everything.filter(service_accounts=account)
    if has_role(user, MODEL_OWNER):
        return everything.filter(team__in=user.groups.all())
    return everything.none()


def can_view_model(user: Any, model: MonitoredModel) -> bool:
    return visible_models(user).filter(pk=model.pk).exists()


def can_register_models(user: Any) -> bool:
    """May create new models (into a team the user belongs to, unless model risk)."""
    return has_role(user, MODEL_RISK) or has_role(user, MODEL_OWNER)


def can_change_model(user: Any, model: MonitoredModel) -> bool:
    if has_role(user, MODEL_RISK):
        return True
    return has_role(user, MODEL_OWNER) and user.groups.filter(pk=model.team_id).exists()


def can_write_data(user: Any, model: MonitoredModel) -> bool:
    """Post batches and labels, record external events for the model."""
    if is_service_account(user):
        account = user.service_account
        return account.is_active and account.scoped_models.filter(pk=model.pk).exists()
    return can_change_model(user, model)


def can_approve_exceptions(user: Any) -> bool:
    return has_role(user, MODEL_RISK)
