"""Policy exceptions: the only way a model's plan or policy may be looser than its tier's.

Proposed by someone who may change the model, approved by a model-risk user who is not the
proposer (four-eyes, checked at the moment of approval), valid until it expires.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.ledger import record
from registry.documents.fields import content_sha256, iso
from registry.documents.model_document import THRESHOLD_TESTS
from registry.models import MonitoredModel, PolicyException
from registry.permissions import can_approve_exceptions, can_change_model, can_view_model
from registry.services.audit import actor_for, model_ref, record_refusal, with_operator
from registry.services.errors import RegistryPermissionDenied, RegistryValidationError
from registry.strictness import exception_field_names
from vocabulary import ledger_actions

MAX_EXCEPTION_DAYS = 365


def exception_snapshot(exception: PolicyException) -> dict[str, Any]:
    return {
        "id": exception.pk,
        "model": model_ref(exception.model),
        "target": exception.target,
        "fields": list(exception.fields),
        "reason": exception.reason,
        "expires_at": iso(exception.expires_at),
        "proposed_by": exception.proposed_by.get_username(),
    }


def policy_exception_propose(
    *, model: MonitoredModel, target: str, fields: list[str], reason: str, expires_at: dt.datetime, user: Any
) -> PolicyException:
    """Propose an exception allowing ``fields`` of the model's ``target`` ("plan" or "policy")
    to be looser than the tier's until ``expires_at``; it counts once approved."""
    if not can_change_model(user, model):
        _refuse(
            ledger_actions.REGISTRY_EXCEPTION_REFUSED,
            user,
            model,
            RegistryPermissionDenied(
                f"'{user.get_username()}' may not propose exceptions for model '{model.slug}'",
                subject_visible=can_view_model(user, model),
            ),
            {"step": "propose"},
        )
    errors = policy_exception_problems(target=target, fields=fields, reason=reason, expires_at=expires_at)
    if errors:
        raise RegistryValidationError(errors)
    with transaction.atomic():
        exception = PolicyException.objects.create(
            model=model,
            target=target,
            fields=list(fields),
            reason=reason.strip(),
            proposed_by=user,
            expires_at=expires_at,
        )
        snapshot = exception_snapshot(exception)
        record(
            action=ledger_actions.REGISTRY_EXCEPTION_PROPOSED,
            subject=exception,
            payload=with_operator({**snapshot, "content_sha256": content_sha256(snapshot)}),
            actor=actor_for(user),
        )
    return exception


def policy_exception_approve(*, exception: PolicyException, user: Any) -> PolicyException:
    """Approve ``exception``: only a model-risk user who did not propose it, before it expires.
    The ledger entry carries the hash of exactly what was approved."""
    exception = PolicyException.objects.select_related("model", "proposed_by").get(pk=exception.pk)
    if not can_approve_exceptions(user):
        _refuse(
            ledger_actions.REGISTRY_EXCEPTION_REFUSED,
            user,
            exception,
            RegistryPermissionDenied(
                f"'{user.get_username()}' may not approve policy exceptions (needs the model risk role)"
            ),
            {"step": "approve"},
        )
    if user.pk == exception.proposed_by_id:
        _refuse(
            ledger_actions.REGISTRY_EXCEPTION_REFUSED,
            user,
            exception,
            RegistryPermissionDenied(
                f"exception #{exception.pk} was proposed by '{user.get_username()}', who cannot also "
                "approve it: another model-risk user must",
                field="approved_by",
            ),
            {"step": "approve"},
        )
    if exception.approved_by_id is not None:
        raise RegistryValidationError({"approved_by": f"exception #{exception.pk} is already approved"})
    now = timezone.now()
    if exception.expires_at <= now:
        raise RegistryValidationError(
            {"expires_at": f"exception #{exception.pk} expired on {iso(exception.expires_at)}"}
        )
    snapshot = exception_snapshot(exception)
    with transaction.atomic():
        # Compare-and-set: two approvers at once, one wins.
        claimed = PolicyException.objects.filter(pk=exception.pk, approved_by=None).update(
            approved_by=user, approved_at=now
        )
        if claimed != 1:
            raise RegistryValidationError(
                {"approved_by": f"exception #{exception.pk} was approved by someone else just now"}
            )
        record(
            action=ledger_actions.REGISTRY_EXCEPTION_APPROVED,
            subject=exception,
            payload=with_operator(
                {"exception": snapshot, "approved_sha256": content_sha256(snapshot), "approved_at": iso(now)}
            ),
            actor=actor_for(user),
        )
    exception.refresh_from_db()
    return exception


def _refuse(
    action: str, user: Any, subject: Any, error: RegistryPermissionDenied, extra: dict[str, Any]
) -> None:
    model = subject if isinstance(subject, MonitoredModel) else subject.model
    record_refusal(
        action=action,
        user=user,
        subject=subject,
        payload={**extra, "model": model_ref(model), "errors": error.errors},
    )
    raise error


def policy_exception_problems(*, target: str, fields: Any, reason: Any, expires_at: Any) -> dict[str, str]:
    """What is wrong with a proposal (path -> message); empty when nothing is."""
    errors: dict[str, str] = {}
    if target not in PolicyException.Target.values:
        errors["target"] = f"'{target}' is not one of plan, policy"
    allowed = exception_field_names(target) if not errors else ()
    if not isinstance(fields, list | tuple) or not fields:
        errors["fields"] = "name at least one field the exception allows to loosen"
    elif not errors:
        for index, name in enumerate(fields):
            valid = name in allowed or (
                target == "plan"
                and isinstance(name, str)
                and name.startswith("thresholds.")
                and name.removeprefix("thresholds.") in THRESHOLD_TESTS
            )
            if not valid:
                errors[f"fields[{index}]"] = (
                    f"'{name}' is not a {target} field; one of "
                    f"{', '.join(allowed)}" + (", thresholds.<test>" if target == "plan" else "")
                )
        if len(set(fields)) != len(fields):
            errors["fields"] = "a field is named twice"
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "say why the loosening is needed"
    now = timezone.now()
    if not isinstance(expires_at, dt.datetime) or expires_at.tzinfo is None:
        errors["expires_at"] = "give a date-time with a time zone"
    elif expires_at <= now:
        errors["expires_at"] = f"{iso(expires_at)} is in the past"
    elif expires_at > now + dt.timedelta(days=MAX_EXCEPTION_DAYS):
        errors["expires_at"] = (
            f"an exception lasts at most {MAX_EXCEPTION_DAYS} days; renew it when it expires"
        )
    return errors
