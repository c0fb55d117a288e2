from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.registry.api.world import registry_paths

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/models/": {"get", "post"},
    "/api/models/{slug}/": {"get", "put"},
    "/api/models/{slug}/versions/": {"get"},
    "/api/models/{slug}/versions/{label}/": {"get"},
    "/api/models/{slug}/versions/{label}/schemas/": {"get"},
    "/api/models/{slug}/versions/{label}/schemas/{number}/": {"get"},
    "/api/models/{slug}/plans/": {"get"},
    "/api/models/{slug}/policies/": {"get"},
    "/api/models/{slug}/exceptions/": {"get", "post"},
    "/api/models/{slug}/exceptions/{id}/": {"get"},
    "/api/models/{slug}/exceptions/{id}/approve/": {"post"},
    "/api/plans/": {"get"},
    "/api/plans/{id}/": {"get"},
    "/api/policies/": {"get"},
    "/api/policies/{id}/": {"get"},
    "/api/events/": {"get", "post"},
    "/api/events/{id}/": {"get"},
}


@pytest.fixture
def schema() -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_renders_and_lists_every_endpoint_with_its_methods(schema):
    assert registry_paths(schema) == ENDPOINTS


def test_the_schema_describes_token_and_session_authentication(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["serviceAccountToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "fw_<prefix>_<secret>",
        "description": schemes["serviceAccountToken"]["description"],
    }
    assert "cookieAuth" in schemes


def test_writes_document_their_400_403_and_404_answers(schema):
    put = schema["paths"]["/api/models/{slug}/"]["put"]["responses"]
    assert {"200", "400", "403", "404"} <= set(put)
    errors = schema["components"]["schemas"]["ValidationErrors"]
    assert errors["properties"]["errors"]["type"] == "object"


def test_lists_are_paginated_in_the_schema(schema):
    listing = schema["paths"]["/api/models/"]["get"]["responses"]["200"]
    ref = listing["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert ref == "PaginatedModelSummaryList"
    assert {"count", "next", "previous", "results"} <= set(schema["components"]["schemas"][ref]["properties"])


def test_schema_generation_raises_no_warnings(tmp_path):
    # drf-spectacular warns (and guesses) where a view is ambiguous; none is acceptable.
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
