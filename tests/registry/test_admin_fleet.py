"""The admin over the seeded fleet (seeded once for the module)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry.models import MonitoredModel
from tests.registry.factories import SuperuserFactory

pytestmark = pytest.mark.django_db


def changelist(name: str) -> str:
    return reverse(f"admin:registry_{name}_changelist")


def change(name: str, pk: int) -> str:
    return reverse(f"admin:registry_{name}_change", args=[pk])


def test_the_admin_lists_the_seeded_fleet(seeded_fleet, db, client):
    client.force_login(SuperuserFactory())
    response = client.get(changelist("monitoredmodel"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 60
    for slug in MonitoredModel.objects.values_list("slug", flat=True):
        assert slug in response.content.decode()


def test_search_and_filters_work_on_the_fleet(seeded_fleet, db, client):
    client.force_login(SuperuserFactory())
    response = client.get(changelist("monitoredmodel"), {"q": "fraud"})
    assert 0 < response.context["cl"].result_count < 60
    response = client.get(changelist("monitoredmodel"), {"risk_tier__exact": "low"})
    assert {m.risk_tier for m in response.context["cl"].result_list} == {"low"}
    for name in (
        "modelversion",
        "featureschema",
        "monitoringplan",
        "retrainingpolicy",
        "policyexception",
        "externalevent",
        "serviceaccount",
    ):
        assert client.get(changelist(name)).status_code == 200, name


def test_a_model_and_its_versions_and_schema_pages_render(seeded_fleet, db, client):
    client.force_login(SuperuserFactory())
    model = MonitoredModel.objects.get(slug="retail-pd-scorecard")
    version = model.versions.get(role="champion")
    assert client.get(change("monitoredmodel", model.pk)).status_code == 200
    assert client.get(change("modelversion", version.pk)).status_code == 200
    schema = version.schemas.get()
    page = client.get(change("featureschema", schema.pk))
    assert page.status_code == 200 and b"Save" not in page.content
