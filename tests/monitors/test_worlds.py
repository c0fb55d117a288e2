"""The monitors' test worlds are models the registry accepted: built through ``model_apply`` as
alice, they export and re-apply unchanged, their schema hashes are the registry's, and a plan
looser than the tier's rests on an approved exception."""

from __future__ import annotations

import pytest

from registry import selectors
from registry.documents.export import model_export, schema_content
from registry.documents.fields import content_sha256
from registry.models import MonitoredModel
from registry.services import model_apply
from tests.monitors.checks.world import champion, make_model
from tests.monitors.dataplane import World

pytestmark = pytest.mark.django_db


def assert_registered_as_is(model: MonitoredModel) -> None:
    result = model_apply(document=model_export(model), user=model.owner)
    assert (result.created, result.changes) == (False, [])
    for version in model.versions.all():
        schema = selectors.schema_current(version)
        assert schema.content_sha256 == content_sha256(schema_content(schema))


def test_the_data_plane_world_is_a_model_the_registry_accepted(world: World):
    assert_registered_as_is(world.model)
    assert (world.model.owner.username, world.model.team.name) == ("alice", "retail-credit")
    assert [(v.label, v.status, v.role, v.validated_by.username) for v in (world.v1, world.v2, world.v3)] == [
        ("v1", "retired", "", "val"),
        ("v2", "production", "champion", "val"),
        ("v3", "production", "challenger", "val"),
    ]
    assert world.schema == selectors.schema_current(world.v2)


def test_a_checks_world_model_runs_under_a_plan_of_its_own_without_an_exception():
    model = make_model("card-fraud", grace_hours=2)
    assert_registered_as_is(model)
    plan = selectors.plan_in_force(model)
    assert plan.model_id == model.pk and plan.exception is None
    assert (plan.grace_hours, plan.performance_window_days, plan.min_sample_size) == (2, 1, 1000)
    assert champion(model).baseline_metrics.filter(metric=selectors.policy_in_force(model).performance_metric)


def test_a_checks_world_plan_looser_than_the_tier_rests_on_an_approved_exception():
    model = make_model("card-fraud", min_sample_size=100, time_zone="Europe/London")
    plan = selectors.plan_in_force(model)
    assert (plan.min_sample_size, plan.time_zone) == (100, "Europe/London")
    exception = plan.exception
    assert sorted(exception.fields) == ["min_sample_size", "time_zone"]
    assert (exception.proposed_by.username, exception.approved_by.username) == ("alice", "rita")
