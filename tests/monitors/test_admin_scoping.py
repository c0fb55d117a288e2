"""Check runs, batches and inventory exceptions in Django's admin: team-scoped through the
registry's visibility helper, read-only for everyone, and a bounded number of queries per page.

The world is the registry's (alice owns in "retail-credit", bob in "pricing", rita is model risk,
ada an auditor, val has no role), with one model per team whose data went through the data
plane and whose runs were scheduled by the sweep and executed by the playbook.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitors.checks.models import CheckRun, EventCorrelation, RunKind, RunStatus
from monitors.checks.services.execute import check_run_execute
from monitors.checks.services.sweep import fleet_sweep, model_schedule
from monitors.ingest import IngestRefusal, Rule, batch_ingest
from monitors.models import Batch, InventoryException
from registry.models import MonitoredModel
from simulation.synthetic import production_frame
from tests.monitors.checks.data import SERVING, ingest_reference, ingest_window
from tests.monitors.checks.world import FEATURES, make_model
from tests.registry.factories import ExternalEventFactory, RegistryWorld

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def changelist(name: str) -> str:
    app = "checks" if name == "checkrun" else "monitors"
    return reverse(f"admin:{app}_{name}_changelist")


def change(row: CheckRun | Batch | InventoryException) -> str:
    return reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_change", args=[row.pk])


def listed(client, name: str, query: str = "") -> set[int]:
    response = client.get(changelist(name) + query)
    assert response.status_code == 200, response.status_code
    return {row.pk for row in response.context["cl"].result_list}


def staff(*users: User) -> None:
    for user in users:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def team_model(slug: str, *, owner: User, team: Group) -> MonitoredModel:
    """A model of the checks world (champion, schema, plan, policy), owned by ``owner`` in
    ``team``: the checks world puts every model in one team, and moving one is an ordinary
    registry change."""
    model = make_model(slug)
    MonitoredModel.objects.filter(pk=model.pk).update(owner=owner, team=team)
    model.refresh_from_db()
    return model


def refuse(model: MonitoredModel | str, *, version_label: str, rule: str) -> None:
    """Post a batch the data plane refuses, leaving the inventory exception it lists."""
    frame = production_frame(
        FEATURES,
        rows=20,
        seed=7,
        start=utc(2025, 1, 1),
        end=utc(2025, 1, 2),
        version_label=version_label,
        record_prefix=f"refused-{model if isinstance(model, str) else model.slug}",
        version_column=settings.FLEETWATCH_VERSION_LABEL_COLUMN,
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    with pytest.raises(IngestRefusal) as refused:
        batch_ingest(model=model, kind="production", source=buffer, sender=SERVING, filename="p.parquet")
    assert refused.value.rule == rule


@dataclass
class Fleet:
    people: RegistryWorld
    card: MonitoredModel  # alice's team
    price: MonitoredModel  # bob's team
    run: CheckRun  # card-fraud's executed drift run, with stages, results and an event
    other_run: CheckRun  # a price-elasticity run
    batch: Batch
    other_batch: Batch
    exception: InventoryException
    other_exception: InventoryException
    unregistered: InventoryException  # for a model nobody registered: no model


@pytest.fixture
def fleet(storage_dir: object) -> Fleet:
    people = RegistryWorld()
    staff(people.alice, people.bob, people.rita, people.ada, people.val)
    card = team_model("card-fraud", owner=people.alice, team=people.team)
    price = team_model("price-elasticity", owner=people.bob, team=people.other_team)
    for model in (card, price):
        ingest_reference(model)
    batch = ingest_window(card, start=utc(2025, 1, 1), end=utc(2025, 1, 2), drift={"income": 1.5})
    other_batch = ingest_window(price, start=utc(2025, 1, 1), end=utc(2025, 1, 2))
    ExternalEventFactory(
        title="New year cashback",
        starts_at=utc(2024, 12, 30),
        ends_at=utc(2025, 1, 1, 12),
        affected_models=[card],
    )
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None)
    run = CheckRun.objects.get(model=card, kind=RunKind.DRIFT)
    assert check_run_execute(run_id=run.pk).result == "committed"
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and EventCorrelation.objects.filter(run=run).exists()

    refuse(card, version_label="v9", rule=Rule.UNKNOWN_VERSION)
    refuse(price, version_label="v9", rule=Rule.UNKNOWN_VERSION)
    refuse("shadow-model", version_label="v1", rule=Rule.UNREGISTERED_MODEL)
    return Fleet(
        people=people,
        card=card,
        price=price,
        run=run,
        other_run=CheckRun.objects.get(model=price, kind=RunKind.DRIFT),
        batch=batch,
        other_batch=other_batch,
        exception=InventoryException.objects.get(model=card),
        other_exception=InventoryException.objects.get(model=price),
        unregistered=InventoryException.objects.get(model__isnull=True),
    )


def test_an_owner_sees_their_teams_check_runs_and_gets_404_for_another_teams(client, fleet):
    client.force_login(fleet.people.alice)

    assert listed(client, "checkrun") == set(
        CheckRun.objects.filter(model=fleet.card).values_list("pk", flat=True)
    )
    assert fleet.other_run.pk not in listed(client, "checkrun")
    page = client.get(change(fleet.run))
    assert page.status_code == 200
    # the inlines render the results, and the event the run's findings may be explained by
    assert b"univariate_drift" in page.content and b"New year cashback" in page.content
    assert client.get(change(fleet.other_run)).status_code == 404
    assert client.post(change(fleet.other_run), {"status": "failed"}).status_code == 404
    assert client.get(reverse("admin:checks_checkrun_history", args=[fleet.other_run.pk])).status_code == 404


def test_an_owner_sees_their_teams_batches_and_inventory_exceptions_and_gets_404_for_another_teams(
    client, fleet
):
    client.force_login(fleet.people.bob)

    assert listed(client, "batch") == set(
        Batch.objects.filter(model=fleet.price).values_list("pk", flat=True)
    )
    assert fleet.batch.pk not in listed(client, "batch")
    assert listed(client, "inventoryexception") == {fleet.other_exception.pk}
    assert client.get(change(fleet.other_batch)).status_code == 200
    assert client.get(change(fleet.other_exception)).status_code == 200
    assert client.get(change(fleet.batch)).status_code == 404
    assert client.get(change(fleet.exception)).status_code == 404


def test_an_auditor_sees_every_teams_rows_and_can_change_nothing(client, fleet):
    client.force_login(fleet.people.ada)

    assert listed(client, "checkrun") == set(CheckRun.objects.values_list("pk", flat=True))
    assert listed(client, "batch") == set(Batch.objects.values_list("pk", flat=True))
    assert listed(client, "inventoryexception") == set(
        InventoryException.objects.values_list("pk", flat=True)
    )
    rows = (fleet.run, fleet.other_run, fleet.batch, fleet.other_batch, fleet.exception, fleet.unregistered)
    for row in rows:
        page = client.get(change(row))
        assert page.status_code == 200, row
        assert b'name="_save"' not in page.content and b"deletelink" not in page.content

    before = CheckRun.objects.get(pk=fleet.other_run.pk)
    refused = client.post(change(fleet.other_run), {"status": "failed", "status_reason": "edited"})
    assert refused.status_code == 403
    after = CheckRun.objects.get(pk=fleet.other_run.pk)
    assert (after.status, after.status_reason) == (before.status, before.status_reason)
    assert client.post(change(fleet.batch), {"row_count": 1}).status_code == 403
    assert Batch.objects.get(pk=fleet.batch.pk).row_count == fleet.batch.row_count

    for name in ("checkrun", "batch", "inventoryexception"):
        app = "checks" if name == "checkrun" else "monitors"
        assert client.get(reverse(f"admin:{app}_{name}_add")).status_code == 403
    assert client.post(reverse("admin:checks_checkrun_delete", args=[fleet.run.pk])).status_code == 403
    assert client.post(reverse("admin:monitors_batch_delete", args=[fleet.batch.pk])).status_code == 403
    assert (
        CheckRun.objects.filter(pk=fleet.run.pk).exists() and Batch.objects.filter(pk=fleet.batch.pk).exists()
    )
    # no bulk delete either: the changelist offers no actions at all
    assert client.get(changelist("checkrun")).context["action_form"] is None


def test_model_risk_sees_everything_and_narrows_it_down_by_team(client, fleet):
    client.force_login(fleet.people.rita)

    assert listed(client, "checkrun") == set(CheckRun.objects.values_list("pk", flat=True))
    assert listed(client, "batch") == set(Batch.objects.values_list("pk", flat=True))
    assert listed(client, "inventoryexception") == set(
        InventoryException.objects.values_list("pk", flat=True)
    )
    for row in (fleet.other_run, fleet.other_batch, fleet.other_exception, fleet.unregistered):
        assert client.get(change(row)).status_code == 200, row

    pricing = f"?model__team__id__exact={fleet.people.other_team.pk}"
    assert listed(client, "checkrun", pricing) == set(
        CheckRun.objects.filter(model=fleet.price).values_list("pk", flat=True)
    )
    assert listed(client, "batch", pricing) == set(
        Batch.objects.filter(model=fleet.price).values_list("pk", flat=True)
    )


def test_the_team_filter_offers_the_teams_of_visible_rows_and_never_a_role(client, fleet):
    def teams_offered(user: User) -> list[str] | None:
        client.force_login(user)
        response = client.get(changelist("checkrun"))
        offered = [f for f in response.context["cl"].filter_specs if f.title == "team"]
        return sorted(name for _, name in offered[0].lookup_choices) if offered else None

    assert teams_offered(fleet.people.rita) == ["pricing", "retail-credit"]
    # Django leaves out a filter with a single choice: alice is shown no team, least of all bob's
    assert teams_offered(fleet.people.alice) is None


def test_an_inventory_exception_without_a_model_is_seen_by_model_risk_and_auditors_not_by_owners(
    client, fleet
):
    assert (fleet.unregistered.model, fleet.unregistered.model_slug) == (None, "shadow-model")
    for reader in (fleet.people.rita, fleet.people.ada):
        client.force_login(reader)
        assert fleet.unregistered.pk in listed(client, "inventoryexception")
        assert client.get(change(fleet.unregistered)).status_code == 200
    for owner in (fleet.people.alice, fleet.people.bob):
        client.force_login(owner)
        assert fleet.unregistered.pk not in listed(client, "inventoryexception")
        assert client.get(change(fleet.unregistered)).status_code == 404


def test_a_staff_user_without_a_role_gets_no_access(client, fleet):
    client.force_login(fleet.people.val)

    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []
    for name in ("checkrun", "batch", "inventoryexception"):
        assert client.get(changelist(name)).status_code == 403
    # the row lookup runs before the permission check, and finds nothing this user may see
    for row in (fleet.run, fleet.batch, fleet.unregistered):
        assert client.get(change(row)).status_code == 404


def test_an_owner_who_is_not_staff_is_sent_to_the_login_page(client, fleet):
    fleet.people.alice.is_staff = False
    fleet.people.alice.save(update_fields=["is_staff"])
    client.force_login(fleet.people.alice)

    response = client.get(changelist("checkrun"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("reader", ["alice", "ada"])
def test_the_check_run_changelist_makes_as_many_queries_for_20_runs_as_for_5(client, reader):
    people = RegistryWorld()
    staff(people.alice, people.ada)
    card = team_model("card-fraud", owner=people.alice, team=people.team)
    team_model("price-elasticity", owner=people.bob, team=people.other_team)  # not alice's
    client.force_login(getattr(people, reader))

    def changelist_queries(runs: int) -> list[str]:
        model_schedule(model=card, now=utc(2025, 1, 1 + runs, 1), dispatch=None, kinds=(RunKind.DRIFT,))
        assert CheckRun.objects.filter(model=card).count() == runs
        with CaptureQueriesContext(connection) as queries:
            response = client.get(changelist("checkrun"))
        assert response.status_code == 200 and len(response.context["cl"].result_list) == runs
        return [q["sql"] for q in queries]

    few = changelist_queries(5)
    many = changelist_queries(20)

    assert len(few) == len(many)
    # the runs themselves: two counts, the page (models and versions joined), the date
    # hierarchy's range and days, the teams for the filter
    assert len([sql for sql in many if '"checks_checkrun"' in sql]) == 6
    # and no query of its own for any run's model or version
    assert not [
        sql
        for sql in many
        if sql.startswith(('SELECT "registry_modelversion"', 'SELECT "registry_monitoredmodel"'))
    ]


def test_a_run_page_reads_its_event_correlations_together_with_their_events(client, fleet):
    client.force_login(fleet.people.alice)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(change(fleet.run))

    assert page.status_code == 200 and b"New year cashback" in page.content
    correlations = [q["sql"] for q in queries if q["sql"].startswith('SELECT "checks_eventcorrelation"')]
    assert len(correlations) == 1 and '"registry_externalevent"' in correlations[0]
    assert not [q for q in queries if q["sql"].startswith('SELECT "registry_externalevent"')]
