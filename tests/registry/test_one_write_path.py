"""One write path: the YAML apply (``manage.py register_model``), the REST API and the admin
refuse every registry invariant with the same sentence and write nothing, and the same change
made through each gives the same ledger entry (only ``via`` differs)."""

from __future__ import annotations

import copy
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from audit.ledger.models import LedgerEntry
from registry.documents.export import model_export, model_fields_snapshot, version_snapshot
from registry.documents.yaml_lines import dump_yaml
from registry.models import ModelVersion, MonitoredModel
from registry.services import model_apply
from tests.registry.factories import RegistryWorld, UserFactory, version_document
from tests.support.admin_forms import page_form

pytestmark = pytest.mark.django_db

SLUG = "retail-pd"


@pytest.fixture
def world() -> RegistryWorld:
    """Alice's model with four versions: one retired, the production champion, and two approved
    ones waiting: 2025.2 with a schema but only a gini baseline, 2025.3 with an auc baseline but
    no schema. Dan developed it; Val validates."""
    world = RegistryWorld()
    for user in (world.alice, world.rita):
        user.is_staff = True
        user.save()
    world.dan = UserFactory(username="dan")
    waiting = {"status": "approved", "role": "", "deployed_at": None, "validated_by": "val"}
    document = world.document(developer="dan")
    document["versions"] = [
        version_document("2024.1", status="retired", role="", validated_by="val"),
        *document["versions"],
        version_document(
            "2025.2", **waiting, baseline_metrics=[{"metric": "gini", "value": 0.5, "holdout": "h"}]
        ),
        {
            k: v
            for k, v in version_document("2025.3", **waiting).items()
            if k
            not in (
                "features",
                "target_column",
                "prediction_column",
                "score_columns",
                "expected_rows_per_day",
            )
        },
    ]
    model_apply(document=document, user=world.alice)
    return world


def registered() -> MonitoredModel:
    return MonitoredModel.objects.get(slug=SLUG)


def state() -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """Everything a refused write must leave as it was."""
    model = registered()
    versions = [version_snapshot(v) for v in model.versions.order_by("label")]
    return (
        model_fields_snapshot(model),
        versions,
        LedgerEntry.objects.exclude(action__endswith="refused").count(),
    )


# --- the three interfaces ------------------------------------------------------------------


def through_yaml(world: RegistryWorld, document: dict[str, Any], tmp_path: Any) -> str:
    path = tmp_path / "model.yaml"
    path.write_text(dump_yaml(document))
    with pytest.raises(CommandError) as excinfo:
        call_command("register_model", str(path), actor="alice")
    return str(excinfo.value)


def through_api(world: RegistryWorld, document: dict[str, Any], tmp_path: Any) -> str:
    client = APIClient()
    client.force_login(world.alice)
    response = client.put(f"/api/models/{SLUG}/", document, format="json")
    assert response.status_code in (400, 403), response.content
    return str(response.json()["errors"])


def through_admin(world: RegistryWorld, post: Callable[[Any], Any]) -> str:
    client = Client()
    client.force_login(world.alice)
    response = post(client)
    assert response.status_code == 200, "the admin saved what it should have refused"
    return html.unescape(response.content.decode())


# --- the invariants ------------------------------------------------------------------------


@dataclass(frozen=True)
class Invariant:
    message: str
    document: Callable[[RegistryWorld, dict[str, Any]], None]  # changes an exported document
    admin: Callable[[RegistryWorld, Any], Any]  # posts the same change in the admin


def _version(document: dict[str, Any], label: str) -> dict[str, Any]:
    return next(v for v in document["versions"] if v["label"] == label)


def _post_version(client: Any, label: str, **changes: Any) -> Any:
    """Change a version on its admin page, posting what the browser would."""
    version = ModelVersion.objects.get(model__slug=SLUG, label=label)
    url = reverse("admin:registry_modelversion_change", args=[version.pk])
    return client.post(url, page_form(client, url, **changes))


def _post_model(client: Any, **changes: Any) -> Any:
    url = reverse("admin:registry_monitoredmodel_change", args=[registered().pk])
    return client.post(url, page_form(client, url, **changes))


def _add_version(client: Any, **fields: Any) -> Any:
    url = reverse("admin:registry_modelversion_add")
    return client.post(url, page_form(client, url, model=registered().pk, **fields))


INVARIANTS = {
    "the validator is not the developer": Invariant(
        "'dan' is also the developer; the validator must be independent of the developer",
        lambda w, d: d.update(validator="dan"),
        lambda w, c: _post_model(c, validator=w.dan.pk),
    ),
    "the owner has the owner role": Invariant(
        "'val' does not have the model owner role",
        lambda w, d: d.update(owner="val"),
        lambda w, c: _post_model(c, owner=w.val.pk),
    ),
    "the owner belongs to the team": Invariant(
        "'bob' is not a member of team 'retail-credit'",
        lambda w, d: d.update(owner="bob"),
        lambda w, c: _post_model(c, owner=w.bob.pk),
    ),
    "the validator is not the owner": Invariant(
        "'alice' owns this model; the validator must be independent of its owner",
        lambda w, d: d.update(validator="alice"),
        lambda w, c: _post_model(c, validator=w.alice.pk),
    ),
    "a version is not validated by its developer": Invariant(
        "'dan' developed this model and cannot validate its versions",
        lambda w, d: d["versions"].append(
            {
                "label": "2025.5",
                "artifact_sha256": "c" * 64,
                "status": "development",
                "validated_by": "dan",
                "validated_at": "2025-03-01T00:00:00Z",
            }
        ),
        lambda w, c: _add_version(
            c,
            label="2025.5",
            artifact_sha256="c" * 64,
            status="development",
            validated_by=w.dan.pk,
            validated_at_0="2025-03-01",
            validated_at_1="00:00:00",
        ),
    ),
    "a validation on record does not change": Invariant(
        "version 2025.2 was validated by val on 2025-01-20T00:00:00Z; a validation on record cannot change",
        lambda w, d: _version(d, "2025.2").update(validated_by="rita"),
        lambda w, c: _post_version(c, "2025.2", validated_by=w.rita.pk),
    ),
    "a retired version stays retired": Invariant(
        "a retired version stays retired",
        lambda w, d: _version(d, "2024.1").update(status="development"),
        lambda w, c: _post_version(c, "2024.1", status="development"),
    ),
    "an approved version has been validated": Invariant(
        "version 2025.4 is approved, so it must have been validated",
        lambda w, d: d["versions"].append(
            {"label": "2025.4", "artifact_sha256": "a" * 64, "status": "approved"}
        ),
        lambda w, c: _add_version(c, label="2025.4", artifact_sha256="a" * 64, status="approved"),
    ),
    "production needs a feature schema": Invariant(
        "a production version is monitored and needs a feature schema",
        lambda w, d: _version(d, "2025.3").update(status="production", role="challenger"),
        lambda w, c: _post_version(c, "2025.3", status="production", role="challenger"),
    ),
    "production needs a baseline for the policy's metric": Invariant(
        "a production version needs a validated baseline for the policy's performance metric 'auc'",
        lambda w, d: _version(d, "2025.2").update(status="production", role="challenger"),
        lambda w, c: _post_version(c, "2025.2", status="production", role="challenger"),
    ),
}


@pytest.mark.parametrize("interface", ["yaml", "api", "admin"])
@pytest.mark.parametrize("name", list(INVARIANTS))
def test_every_interface_refuses_an_invariant_with_the_same_sentence_and_writes_nothing(
    world, name, interface, tmp_path
):
    invariant = INVARIANTS[name]
    before = state()
    if interface == "admin":
        said = through_admin(world, lambda client: invariant.admin(world, client))
    else:
        document = copy.deepcopy(model_export(registered()))
        invariant.document(world, document)
        said = (through_yaml if interface == "yaml" else through_api)(world, document, tmp_path)
    assert invariant.message in said
    assert state() == before


# --- one change recorder -------------------------------------------------------------------


def _entries_since(mark: int) -> list[tuple[str, Any, Any]]:
    return [
        (e.action, e.payload.get("before"), e.payload.get("after"))
        for e in LedgerEntry.objects.filter(sequence__gt=mark).order_by("sequence")
    ]


def _mark() -> int:
    last = LedgerEntry.objects.order_by("-sequence").first()
    return last.sequence if last else 0


CHANGES = {
    "a model field": (
        lambda d: d.update(name="Retail PD, v2 scorecard"),
        lambda c: _post_model(c, name="Retail PD, v2 scorecard"),
    ),
    "a version's status": (
        lambda d: _version(d, "2025.2").update(status="restricted"),
        lambda c: _post_version(c, "2025.2", status="restricted"),
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_the_same_change_through_yaml_api_and_admin_records_the_same_entries(world, name, tmp_path):
    change_document, post_admin = CHANGES[name]
    exported = model_export(registered())
    recorded = {}
    for interface in ("yaml", "api", "admin"):
        _reset()  # undo the previous interface's change, then make it again
        mark = _mark()
        if interface == "admin":
            admin_client = Client()
            admin_client.force_login(world.alice)
            response = post_admin(admin_client)
            assert response.status_code == 302, html.unescape(response.content.decode())[-3000:]
        else:
            document = copy.deepcopy(exported)
            change_document(document)
            if interface == "yaml":
                path = tmp_path / "model.yaml"
                path.write_text(dump_yaml(document))
                call_command("register_model", str(path), actor="alice")
            else:
                client = APIClient()
                client.force_login(world.alice)
                assert client.put(f"/api/models/{SLUG}/", document, format="json").status_code == 200
        entries = LedgerEntry.objects.filter(sequence__gt=mark).order_by("sequence")
        assert entries, f"{interface} recorded nothing"
        recorded[interface] = _entries_since(mark)
        vias = {e.payload.get("via") for e in entries}
        assert vias == {{"yaml": None, "api": "api", "admin": "admin"}[interface]}
    assert recorded["yaml"] == recorded["api"] == recorded["admin"]


def _reset() -> None:
    """Back to the fixture's state, in the database: a document cannot un-restrict a version."""
    model = registered()
    model.name = "Retail probability of default"
    model.save()
    model.versions.filter(label="2025.2").update(status="approved")
