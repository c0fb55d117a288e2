"""Writes through the API: what a successful call answers and records, and how a wrong document
is answered (400, naming the field by its dotted path)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.ledger.models import LedgerEntry
from registry.models import ExternalEvent, MonitoredModel, PolicyException

pytestmark = pytest.mark.django_db


def entries_of(response) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(correlation_id=response["X-Request-ID"]))


# --- success -------------------------------------------------------------------------------------


def test_registering_answers_201_with_the_model_and_records_it_as_the_caller(world):
    response = world.client("owner").post("/api/models/", world.document(slug="retail-lgd"), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True and body["changes"]
    assert body["model"]["slug"] == "retail-lgd" and body["model"]["versions"] == ["2025.1"]
    entries = entries_of(response)
    assert entries and {(e.actor_kind, e.actor_name) for e in entries} == {("user", "alice")}
    assert MonitoredModel.objects.get(slug="retail-lgd").owner == world.alice


def test_putting_the_same_document_changes_nothing_and_records_nothing(world):
    response = world.client("owner").put(f"/api/models/{world.model.slug}/", world.document(), format="json")
    assert response.status_code == 200
    assert response.json()["created"] is False and response.json()["changes"] == []
    assert entries_of(response) == []


def test_putting_a_changed_document_reports_the_change(world):
    response = world.client("model_risk").put(
        f"/api/models/{world.model.slug}/", world.document(name="Retail PD v2"), format="json"
    )
    assert response.status_code == 200
    assert response.json()["changes"] == ["name: Retail probability of default -> Retail PD v2"]
    assert response.json()["model"]["name"] == "Retail PD v2"
    assert {e.actor_name for e in entries_of(response)} == {"rita"}


def test_a_service_account_records_an_event_under_its_own_name(world):
    response = world.client("service_scoped").post(
        "/api/events/",
        {
            "kind": "pipeline_change",
            "title": "Bureau feed v3",
            "starts_at": "2025-04-01T06:00:00Z",
            "models": [world.model.slug],
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["models"] == [world.model.slug] and not response.json()["fleet_wide"]
    event = ExternalEvent.objects.get(pk=response.json()["id"])
    assert event.created_by == world.scoped.user
    [entry] = entries_of(response)
    assert (entry.action, entry.actor_kind, entry.actor_id, entry.actor_name) == (
        "registry.event.created",
        "service",
        str(world.scoped.pk),
        "scoring-api",
    )


def test_an_exception_is_proposed_then_approved_by_someone_else(world):
    proposed = world.client("owner").post(
        f"/api/models/{world.model.slug}/exceptions/",
        {
            "target": "plan",
            "fields": ["alpha"],
            "reason": "Seasonal volume.",
            "expires_at": "2099-01-01T00:00:00Z",
        },
        format="json",
    )
    assert proposed.status_code == 400  # more than a year ahead
    assert "expires_at" in proposed.json()["errors"]

    expires = (timezone.now() + timedelta(days=60)).isoformat()
    proposed = world.client("owner").post(
        f"/api/models/{world.model.slug}/exceptions/",
        {"target": "plan", "fields": ["alpha"], "reason": "Seasonal volume.", "expires_at": expires},
        format="json",
    )
    assert proposed.status_code == 201
    assert proposed.json()["proposed_by"] == "alice" and proposed.json()["approved_by"] is None
    pk = proposed.json()["id"]
    approved = world.client("model_risk").post(f"/api/models/{world.model.slug}/exceptions/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["approved_by"] == "rita"
    again = world.client("model_risk").post(f"/api/models/{world.model.slug}/exceptions/{pk}/approve/")
    assert again.status_code == 400 and "already approved" in again.json()["errors"]["approved_by"]
    listed = world.client("auditor").get(f"/api/models/{world.model.slug}/exceptions/").json()
    assert [row["id"] for row in listed["results"]] == [pk]


# --- validation ----------------------------------------------------------------------------------


def test_a_missing_version_label_is_named_by_its_path(world):
    document = world.document(slug="retail-lgd")
    del document["versions"][0]["label"]
    response = world.client("owner").post("/api/models/", document, format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": {"versions[0].label": "missing required key"}}
    assert not MonitoredModel.objects.filter(slug="retail-lgd").exists()


def test_a_bad_feature_kind_is_named_by_its_path(world):
    document = world.document()
    document["versions"][0]["features"][2]["kind"] = "colour"
    response = world.client("owner").put(f"/api/models/{world.model.slug}/", document, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"versions[0].features[2].kind"}
    assert "colour" in response.json()["errors"]["versions[0].features[2].kind"]


def test_a_loosening_without_an_exception_is_refused_naming_the_field(world):
    document = world.document(plan={"alpha": 0.001, "reason": "fewer alarms"})
    response = world.client("owner").put(f"/api/models/{world.model.slug}/", document, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"plan.alpha"}
    assert not LedgerEntry.objects.filter(action="api.refused").exists()  # a 400 is not a refusal


def test_the_slug_in_the_document_must_be_the_one_in_the_url(world):
    response = world.client("owner").put(
        f"/api/models/{world.model.slug}/", world.document(slug="retail-lgd"), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"slug"}
    assert not MonitoredModel.objects.filter(slug="retail-lgd").exists()


def test_registering_a_taken_slug_is_a_conflict_not_an_update(world):
    response = world.client("owner").post("/api/models/", world.document(name="Other"), format="json")
    assert response.status_code == 409
    assert "PUT /api/models/retail-pd/" in response.json()["errors"]["slug"]
    assert MonitoredModel.objects.get(slug="retail-pd").name == "Retail probability of default"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[1, 2]", "application/json", 400),
        ("{not json", "application/json", 400),
        ("slug=retail-lgd", "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(world, body, content_type, status):
    response = world.client("owner").generic("POST", "/api/models/", body, content_type=content_type)
    assert response.status_code == status
    if status == 400:
        assert set(response.json()["errors"]) == {"document"}


def test_event_errors_name_every_field(world):
    response = world.client("owner").post(
        "/api/events/",
        {
            "kind": "party",
            "title": "",
            "starts_at": "2025-03-01T00:00:00Z",
            "ends_at": "2025-01-01T00:00:00Z",
            "models": [world.model.slug],
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "title", "ends_at"}


def test_exception_errors_name_every_field(world):
    response = world.client("owner").post(
        f"/api/models/{world.model.slug}/exceptions/",
        {"target": "plan", "fields": ["alpha", "nope"], "reason": " ", "expires_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"fields[1]", "reason", "expires_at"}
    unparsable = world.client("owner").post(
        f"/api/models/{world.model.slug}/exceptions/",
        {"target": "plan", "fields": "alpha", "reason": "x", "expires_at": "next week"},
        format="json",
    )
    assert set(unparsable.json()["errors"]) == {"fields", "expires_at"}
    assert not PolicyException.objects.exists()


def test_a_403_names_the_part_of_the_document_that_needs_the_permission(world):
    response = world.client("other_owner").post(
        "/api/models/", world.document(slug="retail-lgd"), format="json"
    )
    assert response.status_code == 403
    assert set(response.json()["errors"]) == {"team"}
    assert "retail-credit" in response.json()["errors"]["team"]
