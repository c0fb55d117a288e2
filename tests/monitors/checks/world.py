"""A small named world for the check-pipeline tests, built through the registry's one write path.

The people are the suite's (``RegistryWorld``): alice owns the models, the credit team
("retail-credit") runs them, val validated them. Each model is registered with
``model_apply`` as alice: a high-tier binary model whose production champion ``v1`` was
validated by val, with a feature schema, an auc baseline for the tier's retraining policy, and a
plan of its own whose windows suit tests (daily performance windows, labels mature at once).
With the default arguments the plan is at least as strict as every tier's default (the high
tier's minimum sample of 1000 rows included, hence windows of ``WINDOW_ROWS``), so no exception
is needed; a test that asks for a looser value gets it the way a model owner would, under an
exception proposed by alice and approved by rita.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group, User

from registry import selectors, strictness
from registry.documents.export import plan_content
from registry.models import ModelVersion, MonitoredModel, VersionRole
from registry.services import model_apply
from simulation.synthetic import Feature
from tests.registry.factories import RegistryWorld, version_document

FEATURES = [
    Feature("income", "numeric", nullable=True, min_value=0.0, importance=1.0),
    Feature("age", "numeric", nullable=False, min_value=18.0, max_value=100.0, importance=0.8),
    Feature("utilisation", "numeric", importance=0.6),
    Feature("tenure_months", "numeric", importance=0.4),
    Feature("channel", "categorical", categories=("branch", "online", "partner", "phone"), importance=0.5),
    Feature("has_mortgage", "boolean", importance=0.2),
]

DEPLOYED = datetime(2025, 1, 1, tzinfo=UTC)
#: rows in a test's window: the high tier's min_sample_size, so drift tests run on every window
WINDOW_ROWS = 1000


def alice() -> User:
    return RegistryWorld().alice


def credit_team() -> Group:
    """The team that runs the models: ``RegistryWorld``'s "retail-credit"."""
    return RegistryWorld().team


def feature_document(feature: Feature) -> dict[str, Any]:
    return {
        "name": feature.name,
        "kind": feature.kind,
        "nullable": feature.nullable,
        "min_value": feature.min_value,
        "max_value": feature.max_value,
        "categories": list(feature.categories) if feature.categories else None,
        "importance": feature.importance,
    }


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
    min_sample_size: int = 1000,
    expected_rows_per_day: int | None = None,
) -> MonitoredModel:
    """Register ``slug`` as alice; the plan's values are the keyword arguments (the rest are the
    tier's: alpha, correction, drift share, thresholds)."""
    people = RegistryWorld()
    version = version_document(
        "v1",
        artifact_sha256=hashlib.sha256(slug.encode()).hexdigest(),
        deployed_at=deployed_at,
        validated_at=deployed_at - timedelta(days=14),
        validated_by="val",
        target_column="target",
        prediction_column="prediction",
        score_columns=["score"],
        expected_rows_per_day=expected_rows_per_day,
        features=[feature_document(f) for f in features or FEATURES],
    )
    document = people.document(
        slug=slug,
        name=slug.replace("-", " ").title(),
        risk_tier=tier,
        risk_tier_rationale="Credit decisions on natural persons.",
        versions=[version],
    )
    values = {
        "drift_window_days": drift_window_days,
        "performance_window_days": performance_window_days,
        "window_alignment": alignment,
        "time_zone": time_zone,
        "grace_hours": grace_hours,
        "label_maturity_days": label_maturity_days,
        "min_sample_size": min_sample_size,
    }
    plan: dict[str, Any] = {"reason": "Checked daily in tests; labels arrive at once.", **values}
    default = plan_content(selectors.tier_default_plan(tier))
    loosened = [x.field for x in strictness.plan_loosenings({**default, **values}, default)]
    if loosened:
        # An exception exists only for a registered model: register on the tier's plan first.
        model = model_apply(document=document, user=people.alice).model
        exception = people.exception_approved(
            model, target="plan", fields=loosened, reason=f"Tests of {', '.join(loosened)}."
        )
        plan["exception"] = exception.pk
    document["plan"] = plan
    return model_apply(document=document, user=people.alice).model


def champion(model: MonitoredModel) -> ModelVersion:
    return model.versions.get(role=VersionRole.CHAMPION)
