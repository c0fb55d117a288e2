"""Who may see and do what: the one visibility helper. The admin querysets (the registry's and
the data plane's), the API querysets, the command line and the console ask it, never a copy.

- model risk: sees and changes every model; approves policy exceptions.
- model owner: sees and changes the models of the teams (groups) they belong to.
- auditor: sees everything, changes nothing.
- service account: sees the models its token is scoped to; writes only data for them (and
  external events that touch them), never the inventory.
A superuser is treated as model risk.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from registry.models import MonitoredModel
from vocabulary.roles import ALL_ROLES, AUDITOR, MODEL_OWNER, MODEL_RISK, SERVICE_ACCOUNT


def has_role(user: Any, role: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if role == MODEL_RISK and user.is_superuser:
        return True
    return role in _roles(user)


def _roles(user: Any) -> frozenset[str]:
    """The user's role names, read once per user object (as Django's ModelBackend caches
    permissions in ``_perm_cache``): an admin page asks for every model on the sidebar and every
    inline, and each request loads its user afresh."""
    cached: frozenset[str] | None = getattr(user, "_fleetwatch_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._fleetwatch_roles = cached
    return cached


def is_service_account(user: Any) -> bool:
    return hasattr(user, "service_account") and has_role(user, SERVICE_ACCOUNT)


Row = TypeVar("Row", bound=Model)


def sees_everything(user: Any) -> bool:
    """Model risk and auditors see every model (auditors change nothing)."""
    return has_role(user, MODEL_RISK) or has_role(user, AUDITOR)


def visible_models(user: Any) -> QuerySet[MonitoredModel]:
    everything = MonitoredModel.objects.all()
    if sees_everything(user):
        return everything
    if is_service_account(user):
        account = user.service_account
        if not account.is_active:
            return everything.none()
        return everything.filter(service_accounts=account)
    if has_role(user, MODEL_OWNER):
        return everything.filter(team__in=user.groups.all())
    return everything.none()


def visible_rows(user: Any, rows: QuerySet[Row], *, model_path: str) -> QuerySet[Row]:
    """``rows`` of anything that belongs to a model (versions, batches, check runs...), restricted
    to the models ``user`` may see. ``model_path`` is the lookup from a row to its model:
    ``"pk"`` for models themselves, ``"model"``, ``"version__model"``."""
    if sees_everything(user):
        return rows
    return rows.filter(**{f"{model_path}__in": visible_models(user)})


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
