"""Reads of the registry that other apps rely on: which schema, plan and policy are in force."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from registry.models import (
    FeatureSchema,
    LifecycleStatus,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    RetrainingPolicy,
    VersionRole,
)


def schema_current(version: ModelVersion) -> FeatureSchema:
    """The newest schema version of ``version``; raises ``FeatureSchema.DoesNotExist`` when the
    version was registered without one."""
    schema = schema_current_or_none(version)
    if schema is None:
        raise FeatureSchema.DoesNotExist(f"version {version} has no feature schema")
    return schema


def schema_current_or_none(version: ModelVersion) -> FeatureSchema | None:
    return FeatureSchema.objects.filter(version=version).order_by("-number").first()


def tier_default_plan(tier: str) -> MonitoringPlan:
    return MonitoringPlan.objects.filter(model=None, tier=tier).order_by(
        "-number"
    ).first() or _missing_default("monitoring plan", tier)


def tier_default_policy(tier: str) -> RetrainingPolicy:
    return RetrainingPolicy.objects.filter(model=None, tier=tier).order_by(
        "-number"
    ).first() or _missing_default("retraining policy", tier)


def _missing_default(what: str, tier: str) -> Any:
    raise LookupError(f"no {tier} tier default {what}; run the registry migrations")


def own_in_force(row_class: type[Any], model: MonitoredModel, tier: str) -> Any:
    """The model's newest own plan or policy (``row_class``) for ``tier``, unless it relied on a
    policy exception that has since expired: a loosening lasts only as long as its exception.
    None when the tier default is in force."""
    newest = (
        row_class.objects.filter(model=model, tier=tier)
        .select_related("exception")
        .order_by("-number")
        .first()
    )
    if newest is None:
        return None
    if newest.exception is not None and newest.exception.expires_at <= timezone.now():
        return None
    return newest


def plan_in_force(model: MonitoredModel) -> MonitoringPlan:
    """The model's own plan for its tier, else the tier's default."""
    own: MonitoringPlan | None = own_in_force(MonitoringPlan, model, model.risk_tier)
    return own or tier_default_plan(model.risk_tier)


def policy_in_force(model: MonitoredModel) -> RetrainingPolicy:
    """The model's own retraining policy for its tier, else the tier's default."""
    own: RetrainingPolicy | None = own_in_force(RetrainingPolicy, model, model.risk_tier)
    return own or tier_default_policy(model.risk_tier)


def production_versions(model: MonitoredModel) -> QuerySet[ModelVersion]:
    """Versions in production, the champion first, then challengers."""
    return (
        ModelVersion.objects.filter(model=model, status=LifecycleStatus.PRODUCTION)
        .annotate(
            _champion_first=Case(
                When(role=VersionRole.CHAMPION, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("_champion_first", "created_at", "pk")
    )


def champion(model: MonitoredModel) -> ModelVersion | None:
    return production_versions(model).filter(role=VersionRole.CHAMPION).first()
