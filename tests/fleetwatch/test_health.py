import pytest

from audit.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_the_health_endpoint_reports_each_dependency(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage", "broker"}


def test_a_request_gets_a_correlation_id_and_keeps_a_sane_one_offered(client):
    fresh = client.get("/health/")
    assert len(fresh["X-Request-ID"]) == 36
    kept = client.get("/health/", HTTP_X_REQUEST_ID="req-abc-12345")
    assert kept["X-Request-ID"] == "req-abc-12345"
    replaced = client.get("/health/", HTTP_X_REQUEST_ID="bad id; drop table")
    assert replaced["X-Request-ID"] != "bad id; drop table"


def test_roles_exist_as_groups_after_migrating(django_user_model):
    from django.contrib.auth.models import Group

    from vocabulary.roles import ALL_ROLES

    assert set(Group.objects.filter(name__in=ALL_ROLES).values_list("name", flat=True)) == set(ALL_ROLES)
    assert not LedgerEntry.objects.exists()
