"""Every write endpoint x every role: only the allowed role and team succeeds; everyone else gets
403 (or 404 where the object must not be seen, 401 without credentials), nothing changes, and
each refusal is in the ledger as ``api.refused``, naming the caller and the request but none of
the submitted data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from audit.ledger.models import LedgerEntry
from registry.models import ExternalEvent, MonitoredModel, PolicyException
from tests.registry.api.world import ROLES, ApiWorld, registry_paths
from tests.registry.factories import PolicyExceptionFactory
from tests.support import database

pytestmark = pytest.mark.django_db

# Phrases that appear only in the submitted bodies: a refusal's ledger entry must not carry them.
MARKERS = ("Written by the permission test", "Permission-test campaign", "Permission-test reason")


@dataclass(frozen=True)
class Write:
    route: str  # as the OpenAPI schema names it
    method: str
    path: Callable[[ApiWorld], str]
    body: Callable[[ApiWorld], Any]
    state: Callable[[ApiWorld], Any]  # what a successful request changes
    expected: dict[str, int]  # role -> status


def _exception(world: ApiWorld) -> PolicyException:
    """Proposed by Alice, the model's owner; not yet approved."""
    existing = PolicyException.objects.filter(model=world.model).first()
    return existing or PolicyExceptionFactory(model=world.model, proposed_by=world.alice)


WRITES = {
    "register a model": Write(
        "/api/models/",
        "post",
        lambda w: "/api/models/",
        lambda w: w.document(slug="retail-lgd", description=MARKERS[0]),
        lambda w: MonitoredModel.objects.filter(slug="retail-lgd").exists(),
        {
            "owner": 201,
            "other_owner": 403,
            "model_risk": 201,
            "auditor": 403,
            "service_scoped": 403,
            "service_unscoped": 403,
            "anonymous": 401,
        },
    ),
    "update a model": Write(
        "/api/models/{slug}/",
        "put",
        lambda w: f"/api/models/{w.model.slug}/",
        lambda w: w.document(description=MARKERS[0]),
        lambda w: MonitoredModel.objects.get(pk=w.model.pk).description,
        {
            "owner": 200,
            "other_owner": 404,
            "model_risk": 200,
            "auditor": 403,
            "service_scoped": 403,
            "service_unscoped": 404,
            "anonymous": 401,
        },
    ),
    "record an event": Write(
        "/api/events/",
        "post",
        lambda w: "/api/events/",
        lambda w: {
            "kind": "campaign",
            "title": MARKERS[1],
            "starts_at": "2025-03-01T00:00:00Z",
            "models": [w.model.slug],
        },
        lambda w: ExternalEvent.objects.count(),
        {
            "owner": 201,
            "other_owner": 404,
            "model_risk": 201,
            "auditor": 403,
            "service_scoped": 201,
            "service_unscoped": 404,
            "anonymous": 401,
        },
    ),
    "propose an exception": Write(
        "/api/models/{slug}/exceptions/",
        "post",
        lambda w: f"/api/models/{w.model.slug}/exceptions/",
        lambda w: {
            "target": "plan",
            "fields": ["alpha"],
            "reason": MARKERS[2],
            "expires_at": (timezone.now() + dt.timedelta(days=30)).isoformat(),
        },
        lambda w: PolicyException.objects.count(),
        {
            "owner": 201,
            "other_owner": 404,
            "model_risk": 201,
            "auditor": 403,
            "service_scoped": 403,
            "service_unscoped": 404,
            "anonymous": 401,
        },
    ),
    "approve an exception": Write(
        "/api/models/{slug}/exceptions/{id}/approve/",
        "post",
        lambda w: f"/api/models/{w.model.slug}/exceptions/{_exception(w).pk}/approve/",
        lambda w: None,
        lambda w: PolicyException.objects.get(pk=_exception(w).pk).approved_by_id,
        {
            "owner": 403,
            "other_owner": 404,
            "model_risk": 200,
            "auditor": 403,
            "service_scoped": 403,
            "service_unscoped": 404,
            "anonymous": 401,
        },
    ),
}

ROLE_NAMES = {
    "owner": "model owner",
    "other_owner": "model owner",
    "model_risk": "model risk",
    "auditor": "auditor",
    "service_scoped": "service account",
    "service_unscoped": "service account",
}


def test_the_matrix_covers_every_role_and_every_write_endpoint_of_the_api():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    writes_in_api = {
        (path, method)
        for path, methods in registry_paths(schema).items()
        for method in methods
        if method in ("post", "put", "patch", "delete")
    }
    assert writes_in_api == {(write.route, write.method) for write in WRITES.values()}
    assert all(set(write.expected) == set(ROLES) for write in WRITES.values())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(WRITES))
def test_only_the_allowed_role_and_team_may_write(world: ApiWorld, endpoint: str, role: str):
    write = WRITES[endpoint]
    path, body = write.path(world), write.body(world)
    before_state = write.state(world)
    before_seq = LedgerEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0

    response = getattr(world.client(role), write.method)(path, body, format="json")

    expected = write.expected[role]
    assert response.status_code == expected, response.content
    written = LedgerEntry.objects.filter(sequence__gt=before_seq)
    refusals = written.filter(action="api.refused")

    if expected < 400:
        assert write.state(world) != before_state
        assert not refusals.exists()
        # Everything the request recorded names the caller and carries the request's id.
        assert written.exists()
        assert {(e.actor_name, e.correlation_id) for e in written} == {
            (world.actor_name(role), response["X-Request-ID"])
        }
        return

    assert write.state(world) == before_state
    if expected == 401:
        assert not written.exists()  # see docs/api.md: unauthenticated calls are not ledgered
        return
    entry = refusals.get()
    assert (entry.actor_name, entry.correlation_id) == (world.actor_name(role), response["X-Request-ID"])
    assert entry.actor_kind == ("service" if role.startswith("service") else "user")
    assert entry.payload == {
        "method": write.method.upper(),
        "path": path,
        "role": ROLE_NAMES[role],
        "status": expected,
        "reason": entry.payload["reason"],
    }
    assert entry.payload["reason"]
    if endpoint != "register a model":
        assert (entry.subject_type, entry.subject_id) == ("registry.monitoredmodel", str(world.model.pk))
    assert not any(marker in json.dumps(entry.payload) for marker in MARKERS)


def test_a_model_risk_proposer_may_not_approve_their_own_exception(world: ApiWorld):
    proposed = world.client("model_risk").post(
        f"/api/models/{world.model.slug}/exceptions/",
        WRITES["propose an exception"].body(world),
        format="json",
    )
    assert proposed.status_code == 201
    approve = f"/api/models/{world.model.slug}/exceptions/{proposed.json()['id']}/approve/"

    refused = world.client("model_risk").post(approve)
    assert refused.status_code == 403
    assert "cannot also approve" in refused.json()["detail"]
    assert LedgerEntry.objects.filter(action="api.refused", actor_name="rita").exists()

    other = APIClient()
    other.force_login(world.mo)
    approved = other.post(approve)
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == "mo"


def test_an_exception_of_another_model_is_404_under_this_models_url(world: ApiWorld):
    foreign = PolicyExceptionFactory(model=world.other_model, proposed_by=world.bob)
    response = world.client("model_risk").post(
        f"/api/models/{world.model.slug}/exceptions/{foreign.pk}/approve/"
    )
    assert response.status_code == 404
    assert PolicyException.objects.get(pk=foreign.pk).approved_by is None


def test_a_fleet_wide_event_needs_model_risk(world: ApiWorld):
    body = {"kind": "economic_event", "title": "Rate rise", "starts_at": "2025-03-01T00:00:00Z"}
    assert world.client("owner").post("/api/events/", body, format="json").status_code == 403
    assert world.client("service_scoped").post("/api/events/", body, format="json").status_code == 403
    assert world.client("model_risk").post("/api/events/", body, format="json").status_code == 201
    assert LedgerEntry.objects.filter(action="api.refused").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_refusal_is_committed_although_the_request_failed(postgres):
    """Bob's registration into Alice's team is refused inside model_apply's transaction, which
    rolls back; the refusals are recorded after it and are visible to another connection."""
    world = ApiWorld()  # restores the role groups and tier defaults an earlier flush removed
    response = world.client("other_owner").post(
        "/api/models/", world.document(slug="retail-lgd"), format="json"
    )
    assert response.status_code == 403
    with database.runtime_connect() as conn:
        actions = [
            row[0]
            for row in conn.execute(
                "SELECT action FROM ledger_entry WHERE correlation_id = %s ORDER BY sequence",
                [response["X-Request-ID"]],
            )
        ]
    assert actions == ["registry.model.refused", "api.refused"]
    assert not MonitoredModel.objects.filter(slug="retail-lgd").exists()
