"""A small named world for the check-pipeline tests: alice owns the models, the credit team runs
them, and each model has a production champion with a schema and a plan of its own."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from django.contrib.auth.models import Group, User

from monitors.checks.synthetic import Feature
from registry.models import (
    FeatureSchema,
    FeatureSpec,
    LifecycleStatus,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    RetrainingPolicy,
    VersionRole,
)

FEATURES = [
    Feature("income", "numeric", nullable=True, min_value=0.0, importance=1.0),
    Feature("age", "numeric", nullable=False, min_value=18.0, max_value=100.0, importance=0.8),
    Feature("utilisation", "numeric", importance=0.6),
    Feature("tenure_months", "numeric", importance=0.4),
    Feature("channel", "categorical", categories=("branch", "online", "partner", "phone"), importance=0.5),
    Feature("has_mortgage", "boolean", importance=0.2),
]

DEPLOYED = datetime(2025, 1, 1, tzinfo=UTC)


def alice() -> User:
    user, _ = User.objects.get_or_create(username="alice", defaults={"email": "alice@bank.example"})
    return user


def credit_team() -> Group:
    group, _ = Group.objects.get_or_create(name="credit risk")
    return group


def make_model(
    slug: str,
    *,
    tier: str = "high",
    deployed_at: datetime = DEPLOYED,
    features: list[Feature] | None = None,
    drift_window_days: int = 1,
    performance_window_days: int = 1,
    label_maturity_days: int = 0,
    grace_hours: int = 6,
    time_zone: str = "UTC",
    alignment: str = "day",
    min_sample_size: int = 100,
    expected_rows_per_day: int | None = None,
) -> MonitoredModel:
    owner = alice()
    model = MonitoredModel.objects.create(
        slug=slug,
        name=slug.replace("-", " ").title(),
        decision_type="automated",
        task_type="binary",
        business_unit="retail credit",
        owner=owner,
        team=credit_team(),
        risk_tier=tier,
        risk_tier_rationale="credit decisions on natural persons",
    )
    version = ModelVersion.objects.create(
        model=model,
        label="v1",
        artifact_sha256=hashlib.sha256(slug.encode()).hexdigest(),
        status=LifecycleStatus.PRODUCTION,
        role=VersionRole.CHAMPION,
        deployed_at=deployed_at,
    )
    schema = FeatureSchema.objects.create(
        version=version,
        number=1,
        target_column="target",
        prediction_column="prediction",
        score_columns=["score"],
        expected_rows_per_day=expected_rows_per_day,
        content_sha256=hashlib.sha256(f"{slug}-schema".encode()).hexdigest(),
    )
    for position, feature in enumerate(features or FEATURES):
        FeatureSpec.objects.create(
            schema=schema,
            position=position,
            name=feature.name,
            kind=feature.kind,
            nullable=feature.nullable,
            min_value=feature.min_value,
            max_value=feature.max_value,
            categories=list(feature.categories) if feature.categories else None,
            importance=feature.importance,
        )
    MonitoringPlan.objects.create(
        model=model,
        tier=tier,
        number=1,
        reason="tests: a plan of its own",
        created_by=owner,
        content_sha256=hashlib.sha256(f"{slug}-plan".encode()).hexdigest(),
        drift_window_days=drift_window_days,
        performance_window_days=performance_window_days,
        window_alignment=alignment,
        time_zone=time_zone,
        grace_hours=grace_hours,
        label_maturity_days=label_maturity_days,
        alpha=0.01,
        correction="holm",
        min_sample_size=min_sample_size,
        drift_share_threshold=0.3,
        thresholds={"psi": {"value": 0.2, "rationale": "tests", "approver": "tests"}},
    )
    RetrainingPolicy.objects.create(
        model=model,
        tier=tier,
        number=1,
        reason="tests",
        created_by=owner,
        content_sha256=hashlib.sha256(f"{slug}-policy".encode()).hexdigest(),
        performance_tolerance_abs=0.02,
        performance_tolerance_rel=0.03,
        cooldown_days=14,
        max_model_age_days=365,
    )
    return model


def champion(model: MonitoredModel) -> ModelVersion:
    return model.versions.get(role=VersionRole.CHAMPION)
