"""manage.py seed_fleet: a realistic, deterministic, idempotent fleet."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from audit.ledger.models import LedgerEntry
from registry.models import MonitoredModel, MonitoringPlan, RetrainingPolicy
from registry.selectors import champion, plan_in_force, policy_in_force, schema_current
from registry.strictness import plan_loosenings, policy_loosenings
from simulation.fleet_seed import DOMAINS
from vocabulary.roles import AUDITOR, MODEL_OWNER, MODEL_RISK

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(seeded_fleet: str, db: None) -> str:
    return seeded_fleet


def test_seeding_twice_gives_60_models_not_120(seeded):
    assert seeded.startswith("60 models: 60 created, 0 updated, 0 unchanged;")
    entries = LedgerEntry.objects.count()

    out = io.StringIO()
    call_command("seed_fleet", "--models", "60", stdout=out)

    assert out.getvalue().startswith("60 models: 0 created, 0 updated, 60 unchanged; 0 users")
    assert MonitoredModel.objects.count() == 60
    assert LedgerEntry.objects.count() == entries


def test_the_fleet_spans_every_domain_task_type_and_tier(seeded):
    models = list(MonitoredModel.objects.select_related("team"))
    assert {m.team.name for m in models} == {d.team for d in DOMAINS}
    assert set(Counter(m.task_type for m in models)) == {"binary", "multiclass", "regression", "ranking"}
    assert set(Counter(m.risk_tier for m in models)) == {"high", "medium", "low"}
    assert all(m.risk_tier_rationale and m.kpi_name for m in models)


def test_every_model_has_an_owner_in_its_team_and_an_independent_validator(seeded):
    for model in MonitoredModel.objects.select_related("owner", "team", "developer", "validator"):
        groups = set(model.owner.groups.values_list("name", flat=True))
        assert {MODEL_OWNER, model.team.name} <= groups
        assert model.validator != model.developer
        assert model.validator.groups.filter(name=MODEL_RISK).exists()
    assert get_user_model().objects.filter(groups__name=AUDITOR).exists()


def test_every_model_has_a_champion_with_10_to_40_mixed_features_and_baselines(seeded):
    kinds = Counter()
    challengers = 0
    for model in MonitoredModel.objects.all():
        version = champion(model)
        assert version is not None and version.validated_by is not None
        features = list(schema_current(version).features.all())
        assert 10 <= len(features) <= 40
        kinds.update(f.kind for f in features)
        assert any(f.is_key for f in features) and any(f.is_segment for f in features)
        metric = policy_in_force(model).performance_metric
        assert version.baseline_metrics.filter(metric=metric).exists()
        challengers += model.versions.filter(role="challenger").count()
    assert set(kinds) == {"numeric", "categorical", "boolean", "datetime", "text"}
    assert challengers > 0


def test_plans_and_policies_are_the_tier_default_or_stricter(seeded):
    from registry.documents.export import plan_content, policy_content
    from registry.selectors import tier_default_plan, tier_default_policy

    own = 0
    for model in MonitoredModel.objects.all():
        plan, policy = plan_in_force(model), policy_in_force(model)
        own += (plan.model_id is not None) + (policy.model_id is not None)
        if plan.exception_id is None:
            assert plan_loosenings(plan_content(plan), plan_content(tier_default_plan(model.risk_tier))) == []
        assert (
            policy_loosenings(
                policy_content(policy),
                policy_content(tier_default_policy(model.risk_tier)),
                task_type=model.task_type,
            )
            == []
        )
    assert own > 20
    assert MonitoringPlan.objects.filter(exception__isnull=False).count() == 1
    assert RetrainingPolicy.objects.filter(model__isnull=False).exists()
