"""registry.services.external_event_create."""

from __future__ import annotations

import pytest

from audit.ledger.models import LedgerEntry
from registry.models import ExternalEvent
from registry.services import (
    RegistryPermissionDenied,
    RegistryValidationError,
    external_event_create,
)
from tests.registry.factories import MonitoredModelFactory, ServiceAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def models(world):
    mine = MonitoredModelFactory(slug="mine", owner=world.alice, team=world.team)
    theirs = MonitoredModelFactory(slug="theirs", owner=world.bob, team=world.other_team)
    return mine, theirs


def event(**overrides):
    data = {
        "kind": "campaign",
        "title": "Spring cashback",
        "starts_at": "2026-03-01T00:00:00Z",
        "ends_at": "2026-03-31T00:00:00Z",
        "models": ["mine"],
    }
    data.update(overrides)
    return data


def test_an_owner_records_an_event_for_their_model(world, models):
    created = external_event_create(data=event(), user=world.alice)
    assert list(created.affected_models.all()) == [models[0]]
    entry = LedgerEntry.objects.get(action="registry.event.created")
    assert entry.payload["after"]["models"] == ["mine"] and entry.actor_name == "alice"


def test_a_fleet_wide_event_needs_model_risk(world, models):
    with pytest.raises(RegistryPermissionDenied) as excinfo:
        external_event_create(data=event(models=[]), user=world.alice)
    assert excinfo.value.field == "models"
    assert LedgerEntry.objects.filter(action="registry.event.refused").count() == 1
    created = external_event_create(data=event(models=[], kind="economic_event"), user=world.rita)
    assert created.affected_models.count() == 0


def test_a_model_the_user_cannot_see_is_not_found_and_one_they_cannot_write_is_refused(world, models):
    with pytest.raises(RegistryValidationError) as excinfo:
        external_event_create(data=event(models=["mine", "theirs"]), user=world.alice)
    assert excinfo.value.errors == {"models[1]": "there is no model 'theirs'"}
    with pytest.raises(RegistryPermissionDenied):
        external_event_create(data=event(models=["theirs"]), user=world.ada)  # sees, not writes
    assert not ExternalEvent.objects.exists()


def test_a_service_account_records_events_for_its_scoped_models(world, models):
    account = ServiceAccountFactory(scoped_models=[models[0]])
    created = external_event_create(data=event(kind="pipeline_change"), user=account.user)
    entry = LedgerEntry.objects.get(action="registry.event.created")
    assert (entry.actor_kind, entry.actor_name) == ("service", account.name)
    assert created.created_by == account.user


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (event(kind="rumour"), "kind", "'rumour' is not one of campaign"),
        (event(title=""), "title", "must not be empty"),
        (event(starts_at="soon"), "starts_at", "'soon' is not a date-time"),
        (event(ends_at="2026-02-01T00:00:00Z"), "ends_at", "is before starts_at"),
        (event(models="mine"), "models", "expected a list of model slugs"),
        (event(models=["mine", "mine"]), "models[1]", "'mine' is listed twice"),
        (event(colour="red"), "colour", "unknown key"),
        ({"title": "x"}, "kind", "missing required key"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(world, models, data, path, message):
    with pytest.raises(RegistryValidationError) as excinfo:
        external_event_create(data=data, user=world.alice)
    assert message in excinfo.value.errors[path]
    assert not ExternalEvent.objects.exists()
