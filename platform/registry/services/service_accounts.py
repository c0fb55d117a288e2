"""Service accounts: create, rotate and deactivate the API identities of machines.

The token is returned once, to be shown once; only its prefix and SHA-256 are stored (see
``registry.auth``), and the ledger names the prefix, never the token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from audit.ledger import record
from registry import permissions
from registry.auth import token_issue
from registry.models import MonitoredModel, ServiceAccount
from registry.services.audit import ChangeRecorder, actor_for, record_refusal, with_operator
from registry.services.errors import RegistryPermissionDenied, RegistryValidationError
from vocabulary import ledger_actions
from vocabulary.roles import MODEL_RISK, SERVICE_ACCOUNT

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
USERNAME_PREFIX = "svc-"


def _may_manage(user: Any, models: Iterable[MonitoredModel]) -> bool:
    """Model risk manages any account; a model owner one scoped to some of their teams' models
    and to nothing else (an account with no models is fleet-level: model risk's)."""
    if permissions.has_role(user, MODEL_RISK):
        return True
    models = list(models)
    return (
        bool(models)
        and permissions.can_register_models(user)
        and all(permissions.can_change_model(user, model) for model in models)
    )


def _refuse(
    *, user: Any, subject: ServiceAccount | None, operation: str, name: str, message: str
) -> NoReturn:
    record_refusal(
        action=ledger_actions.REGISTRY_SERVICE_ACCOUNT_REFUSED,
        user=user,
        subject=subject,
        payload={"operation": operation, "name": name, "reason": message},
    )
    raise RegistryPermissionDenied(message)


def service_account_create(
    *, name: str, models: Iterable[MonitoredModel], user: Any
) -> tuple[ServiceAccount, str]:
    """Create the account, its user (in the "service account" group) and its first token.
    Returns the account and the token, which nothing else ever holds."""
    models = list(models)
    if not _NAME.match(name):
        raise RegistryValidationError(
            {"name": f"{name!r}: use 2-63 lowercase letters, digits and hyphens, e.g. 'scoring-api'"}
        )
    if not _may_manage(user, models):
        _refuse(
            user=user,
            subject=None,
            operation="create",
            name=name,
            message="only model risk, or a model owner for their own teams' models, creates service accounts",
        )
    username = USERNAME_PREFIX + name
    User = get_user_model()
    if ServiceAccount.objects.filter(name=name).exists() or User.objects.filter(username=username).exists():
        raise RegistryValidationError({"name": f"a service account {name!r} already exists"})

    issued = token_issue()
    with transaction.atomic():
        account_user = User(username=username, is_active=True)
        account_user.set_unusable_password()  # a machine signs in with its token only
        account_user.save()
        account_user.groups.add(Group.objects.get(name=SERVICE_ACCOUNT))
        account = ServiceAccount.objects.create(
            user=account_user,
            name=name,
            token_prefix=issued.prefix,
            token_sha256=issued.sha256,
            created_by=user,
        )
        account.scoped_models.set(models)
        record(
            action=ledger_actions.REGISTRY_SERVICE_ACCOUNT_CREATED,
            subject=account,
            actor=actor_for(user),
            payload=with_operator(
                {
                    "name": name,
                    "user": username,
                    "token_prefix": issued.prefix,
                    "models": sorted(model.slug for model in models),
                }
            ),
        )
    return account, issued.token


def service_account_rotate(*, account: ServiceAccount, user: Any) -> str:
    """Replace the token: the old one stops working at once. Returns the new token."""
    if not _may_manage(user, account.scoped_models.all()):
        _refuse(
            user=user,
            subject=account,
            operation="rotate",
            name=account.name,
            message=f"you may not rotate the token of service account {account.name}",
        )
    issued = token_issue()
    old_prefix = account.token_prefix
    with transaction.atomic():
        account.token_prefix, account.token_sha256 = issued.prefix, issued.sha256
        account.save(update_fields=("token_prefix", "token_sha256"))
        record(
            action=ledger_actions.REGISTRY_SERVICE_ACCOUNT_ROTATED,
            subject=account,
            actor=actor_for(user),
            payload=with_operator(
                {"name": account.name, "old_token_prefix": old_prefix, "token_prefix": issued.prefix}
            ),
        )
    return issued.token


def service_account_deactivate(*, account: ServiceAccount, user: Any) -> ServiceAccount:
    """Refuse the account's token from now on; the account and its history stay."""
    if not _may_manage(user, account.scoped_models.all()):
        _refuse(
            user=user,
            subject=account,
            operation="deactivate",
            name=account.name,
            message=f"you may not deactivate service account {account.name}",
        )
    with transaction.atomic():
        if ServiceAccount.objects.filter(pk=account.pk, is_active=True).update(is_active=False) != 1:
            return account  # already inactive: nothing changed, nothing to record
        account.is_active = False
        record(
            action=ledger_actions.REGISTRY_SERVICE_ACCOUNT_DEACTIVATED,
            subject=account,
            actor=actor_for(user),
            payload=with_operator({"name": account.name, "token_prefix": account.token_prefix}),
        )
    return account


def service_account_snapshot(account: ServiceAccount) -> dict[str, Any]:
    return {
        "is_active": account.is_active,
        "scoped_models": sorted(m.slug for m in account.scoped_models.all()),
    }


def service_account_change(
    *,
    account: ServiceAccount,
    is_active: bool,
    scoped_models: Iterable[MonitoredModel],
    user: Any,
    via: str | None = None,
) -> ServiceAccount:
    """Switch the account on or off and set the models its token is scoped to. The user must
    be allowed to manage it before and after the change; an unchanged account records nothing."""
    scoped_models = list(scoped_models)
    if not (_may_manage(user, account.scoped_models.all()) and _may_manage(user, scoped_models)):
        _refuse(
            user=user,
            subject=account,
            operation="change",
            name=account.name,
            message=f"you may not change service account {account.name}",
        )
    with transaction.atomic():
        account = ServiceAccount.objects.select_for_update().get(pk=account.pk)
        before = service_account_snapshot(account)
        account.is_active = is_active
        account.save(update_fields=("is_active",))
        account.scoped_models.set(scoped_models)
        recorder = ChangeRecorder.for_user(user, via=via)
        recorder.changed(
            ledger_actions.REGISTRY_SERVICE_ACCOUNT_CHANGED,
            account,
            before,
            service_account_snapshot(account),
            name=account.name,
        )
        recorder.record_all()
    return account
