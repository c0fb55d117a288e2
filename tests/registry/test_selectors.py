"""What is in force: schemas, plans, policies, production versions; and the tier defaults."""

from __future__ import annotations

import hashlib
import importlib

import pytest
import rfc8785

from registry.documents.export import plan_content, policy_content
from registry.documents.fields import content_sha256
from registry.models import FeatureSchema, MonitoringPlan, RetrainingPolicy
from registry.selectors import (
    champion,
    plan_in_force,
    policy_in_force,
    production_versions,
    schema_current,
    tier_default_plan,
    tier_default_policy,
)
from tests.registry.factories import (
    FeatureSchemaFactory,
    ModelVersionFactory,
    MonitoredModelFactory,
    MonitoringPlanFactory,
    ProductionChampionFactory,
)

pytestmark = pytest.mark.django_db

tier_defaults = importlib.import_module("registry.migrations.0002_tier_defaults")


def test_the_tier_defaults_follow_the_regulatory_cadences():
    cadences = {
        tier: (tier_default_plan(tier).drift_window_days, tier_default_plan(tier).performance_window_days)
        for tier in ("high", "medium", "low")
    }
    # high: daily drift, monthly performance; medium: weekly, quarterly; low: monthly, semi-annual
    assert cadences == {"high": (1, 30), "medium": (7, 91), "low": (30, 182)}
    assert tier_default_plan("high").model is None and tier_default_plan("high").number == 1


def test_the_migrations_hash_is_the_applications_hash():
    for tier in ("high", "medium", "low"):
        plan, policy = tier_default_plan(tier), tier_default_policy(tier)
        assert plan.content_sha256 == content_sha256(plan_content(plan))
        assert policy.content_sha256 == content_sha256(policy_content(policy))
        frozen = tier_defaults.PLANS[tier]
        assert plan.content_sha256 == hashlib.sha256(rfc8785.dumps(frozen)).hexdigest()


def test_a_model_without_its_own_plan_gets_its_tiers_default():
    model = MonitoredModelFactory(risk_tier="medium")
    assert plan_in_force(model) == tier_default_plan("medium")
    assert policy_in_force(model) == tier_default_policy("medium")


def test_the_newest_own_plan_for_the_models_tier_is_in_force():
    model = MonitoredModelFactory(risk_tier="high")
    MonitoringPlanFactory(model=model, number=1)
    newest = MonitoringPlanFactory(model=model, number=2)
    MonitoringPlanFactory(model=model, tier="low", number=3)  # from when it was low
    assert plan_in_force(model) == newest
    model.risk_tier = "low"
    assert plan_in_force(model).number == 3


def test_versioned_rows_refuse_to_be_edited():
    plan = MonitoringPlanFactory()
    plan.alpha = 0.5
    with pytest.raises(ValueError, match="immutable"):
        plan.save()


def test_production_versions_list_the_champion_first():
    model = MonitoredModelFactory()
    challenger = ModelVersionFactory(model=model, status="production", role="challenger")
    ModelVersionFactory(model=model, status="retired")
    winner = ProductionChampionFactory(model=model)
    assert list(production_versions(model)) == [winner, challenger]
    assert champion(model) == winner


def test_the_current_schema_is_the_highest_number():
    version = ModelVersionFactory()
    with pytest.raises(FeatureSchema.DoesNotExist):
        schema_current(version)
    FeatureSchemaFactory(version=version, number=1)
    second = FeatureSchemaFactory(version=version, number=2)
    assert schema_current(version) == second


def test_rows_without_a_model_are_the_only_defaults():
    assert set(MonitoringPlan.objects.filter(model=None).values_list("tier", flat=True)) == {
        "high",
        "medium",
        "low",
    }
    assert RetrainingPolicy.objects.filter(model=None).count() == 3
