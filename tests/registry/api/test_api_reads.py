from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audit.ledger.models import LedgerEntry
from registry.models import ExternalEvent, MonitoringPlan, RetrainingPolicy
from tests.registry.api.world import client_for
from tests.registry.factories import FeatureSchemaFactory, FeatureSpecFactory, MonitoredModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(world):
    """The document's champion, 2025.1, with a second schema version (2) beside the first."""
    version = world.model.versions.get(label="2025.1")
    schema = FeatureSchemaFactory(version=version, number=2, target_column="default_12m")
    FeatureSpecFactory(schema=schema, position=0, name="age", kind="numeric", min_value=18)
    FeatureSpecFactory(
        schema=schema,
        position=1,
        name="region",
        kind="categorical",
        categories=["north", "south"],
        is_segment=True,
    )
    return version


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", ["retail-pd"]),
        ("other_owner", ["pricing-gbm"]),
        ("model_risk", ["pricing-gbm", "retail-pd"]),
        ("auditor", ["pricing-gbm", "retail-pd"]),
        ("service_scoped", ["retail-pd"]),
        ("service_unscoped", ["pricing-gbm"]),
    ],
)
def test_each_role_lists_the_models_it_may_see(world, role, expected):
    response = client_for(world, role).get("/api/models/")
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == expected


def test_the_model_list_is_paginated(world):
    for i in range(3):
        MonitoredModelFactory(slug=f"extra-{i}", owner=world.alice, team=world.team)
    client = client_for(world, "model_risk")
    page = client.get("/api/models/", {"page_size": 2}).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]
    last = client.get("/api/models/", {"page_size": 2, "page": 3}).json()
    # Ordered by slug: extra-0, extra-1 | extra-2, pricing-gbm | retail-pd.
    assert [row["slug"] for row in last["results"]] == ["retail-pd"] and last["next"] is None


def test_a_model_reads_with_its_inventory_fields(world, version):
    body = client_for(world, "owner").get("/api/models/retail-pd/").json()
    assert body["slug"] == "retail-pd" and body["owner"] == "alice" and body["team"] == "retail-credit"
    assert body["risk_tier"] == "high" and body["versions"] == ["2025.1"] and body["validator"] == "val"
    assert body["uid"] == str(world.model.uid)


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/retail-pd/",
        "/api/models/retail-pd/versions/",
        "/api/models/retail-pd/versions/2025.1/",
        "/api/models/retail-pd/versions/2025.1/schemas/",
        "/api/models/retail-pd/versions/2025.1/schemas/1/",
        "/api/models/retail-pd/plans/",
        "/api/models/retail-pd/policies/",
        "/api/models/retail-pd/exceptions/",
        "/api/plans/?model=retail-pd",
        "/api/policies/?model=retail-pd",
    ],
)
def test_what_a_caller_may_not_see_is_404_and_a_read_is_not_a_refusal(world, version, path):
    for role in ("other_owner", "service_unscoped"):
        assert client_for(world, role).get(path).status_code == 404
    assert client_for(world, "auditor").get(path).status_code == 200
    assert not LedgerEntry.objects.filter(action="api.refused").exists()


def test_a_version_reads_with_its_validated_baseline(world, version):
    body = client_for(world, "auditor").get("/api/models/retail-pd/versions/2025.1/").json()
    assert body["status"] == "production" and body["role"] == "champion"
    assert body["baseline_metrics"] == [{"metric": "auc", "value": 0.78, "holdout": "holdout-2024q4"}]
    assert body["validated_by"] == "val"


def test_schemas_list_newest_first_with_their_features(world, version):
    body = client_for(world, "service_scoped").get("/api/models/retail-pd/versions/2025.1/schemas/").json()
    assert [schema["number"] for schema in body["results"]] == [2, 1]
    newest, first = body["results"]
    assert [(f["name"], f["kind"]) for f in newest["features"]] == [
        ("age", "numeric"),
        ("region", "categorical"),
    ]
    assert newest["features"][1]["categories"] == ["north", "south"] and newest["features"][1]["is_segment"]
    # The first schema is the document's, in the document's order.
    assert [f["name"] for f in first["features"]] == [
        "age",
        "income",
        "region",
        "has_mortgage",
        "application_date",
        "employer_name",
    ]
    assert first["score_columns"] == ["pd"] and first["version"] == "2025.1"


def test_an_unknown_version_or_schema_number_is_404(world, version):
    client = client_for(world, "owner")
    assert client.get("/api/models/retail-pd/versions/9.9/").status_code == 404
    assert client.get("/api/models/retail-pd/versions/2025.1/schemas/7/").status_code == 404


def test_tier_defaults_are_visible_to_everyone_and_model_plans_only_to_who_sees_the_model(world):
    default_plans = MonitoringPlan.objects.filter(model=None)
    assert default_plans.exists(), "the tier-default migration provides one plan per tier"
    client = client_for(world, "other_owner")
    listed = client.get("/api/plans/", {"default": "true", "page_size": 100}).json()
    assert listed["count"] == default_plans.count()
    assert all(row["model"] is None for row in listed["results"])
    high = client.get("/api/plans/", {"default": "true", "tier": "high"}).json()["results"]
    assert {row["tier"] for row in high} == {"high"}
    some = default_plans.first()
    assert client.get(f"/api/plans/{some.pk}/").json()["number"] == some.number
    policy = RetrainingPolicy.objects.filter(model=None).first()
    assert client.get(f"/api/policies/{policy.pk}/").status_code == 200


def test_a_models_own_plan_is_404_by_id_for_another_team(world):
    default = MonitoringPlan.objects.filter(model=None, tier="high").order_by("-number").first()
    own = MonitoringPlan.objects.create(
        model=world.model,
        tier="high",
        number=1,
        reason="stricter drift window",
        content_sha256="c" * 64,
        drift_window_days=1,
        performance_window_days=30,
        grace_hours=default.grace_hours,
        label_maturity_days=default.label_maturity_days,
        alpha=default.alpha,
        min_sample_size=default.min_sample_size,
        drift_share_threshold=default.drift_share_threshold,
    )
    assert client_for(world, "owner").get(f"/api/plans/{own.pk}/").status_code == 200
    assert client_for(world, "other_owner").get(f"/api/plans/{own.pk}/").status_code == 404
    nested = client_for(world, "owner").get("/api/models/retail-pd/plans/").json()["results"]
    assert [row["id"] for row in nested] == [own.pk]


def test_events_show_only_visible_models_and_fleet_wide_events(world):
    when = datetime(2024, 3, 1, tzinfo=UTC)
    shared = ExternalEvent.objects.create(kind="campaign", title="Spring campaign", starts_at=when)
    shared.affected_models.set([world.model, world.other_model])
    credit_only = ExternalEvent.objects.create(
        kind="pipeline_change", title="New bureau feed", starts_at=when
    )
    credit_only.affected_models.set([world.model])
    fleet = ExternalEvent.objects.create(kind="economic_event", title="Rate rise", starts_at=when)

    rows = client_for(world, "other_owner").get("/api/events/").json()["results"]
    by_title = {row["title"]: row for row in rows}
    assert set(by_title) == {"Spring campaign", "Rate rise"}
    assert by_title["Spring campaign"]["models"] == ["pricing-gbm"]  # retail-pd is not bob's to see
    assert not by_title["Spring campaign"]["fleet_wide"]
    assert by_title["Rate rise"]["fleet_wide"] and by_title["Rate rise"]["models"] == []

    assert client_for(world, "other_owner").get(f"/api/events/{credit_only.pk}/").status_code == 404
    everything = client_for(world, "auditor").get(f"/api/events/{shared.pk}/").json()
    assert everything["models"] == ["pricing-gbm", "retail-pd"]
    assert client_for(world, "service_scoped").get(f"/api/events/{fleet.pk}/").status_code == 200


def test_anonymous_reads_are_401(world):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/models/retail-pd/").status_code == 401
