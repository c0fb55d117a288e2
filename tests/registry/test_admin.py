"""The registry in Django's admin: visibility by team, read-only versions, ledger on write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.ledger.models import LedgerEntry
from registry.models import MonitoredModel, MonitoringPlan, PolicyException
from registry.services import policy_exception_propose
from tests.registry.factories import (
    AuditorFactory,
    MonitoredModelFactory,
    MonitoringPlanFactory,
    OwnerFactory,
    SuperuserFactory,
)

pytestmark = pytest.mark.django_db


def changelist(name: str) -> str:
    return reverse(f"admin:registry_{name}_changelist")


def change(name: str, pk: int) -> str:
    return reverse(f"admin:registry_{name}_change", args=[pk])


def staff(user):
    user.is_staff = True
    user.save()
    return user


def model_form_data(model: MonitoredModel, **changes) -> dict:
    data = {
        "slug": model.slug,
        "name": model.name,
        "description": model.description,
        "purpose": model.purpose,
        "approved_uses": model.approved_uses,
        "restrictions": model.restrictions,
        "decision_type": model.decision_type,
        "task_type": model.task_type,
        "business_unit": model.business_unit,
        "owner": model.owner_id,
        "team": model.team_id,
        "developer": "",
        "validator": "",
        "accountable_executive": "",
        "risk_tier": model.risk_tier,
        "risk_tier_rationale": model.risk_tier_rationale,
        "regulatory_scope": "[]",
        "retention_days": model.retention_days,
        "kpi_name": model.kpi_name,
        "kpi_reference_value": model.kpi_reference_value,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "versions-MIN_NUM_FORMS": 0,
        "versions-MAX_NUM_FORMS": 1000,
    }
    data.update(changes)
    return data


def test_an_owner_sees_only_their_teams_models(client):
    owner = staff(OwnerFactory())
    mine = MonitoredModelFactory(owner=owner)
    theirs = MonitoredModelFactory()
    client.force_login(owner)

    response = client.get(changelist("monitoredmodel"))

    assert [m.slug for m in response.context["cl"].result_list] == [mine.slug]
    assert client.get(change("monitoredmodel", theirs.pk)).status_code == 404  # hidden is not found


def test_an_owner_cannot_lower_the_tier_in_the_admin(client):
    owner = staff(OwnerFactory())
    mine = MonitoredModelFactory(owner=owner)
    client.force_login(owner)
    client.post(change("monitoredmodel", mine.pk), model_form_data(mine, risk_tier="low"))
    mine.refresh_from_db()
    assert mine.risk_tier == "high"


def test_an_auditor_reads_but_cannot_change(client):
    model = MonitoredModelFactory()
    auditor = staff(AuditorFactory())
    client.force_login(auditor)
    page = client.get(change("monitoredmodel", model.pk))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert (
        client.post(change("monitoredmodel", model.pk), model_form_data(model, name="Changed")).status_code
        == 403
    )


def test_a_user_without_a_role_sees_no_registry(client):
    nobody = staff(OwnerFactory(roles=[]))
    client.force_login(nobody)
    assert client.get(changelist("monitoredmodel")).status_code == 403


def test_an_admin_change_of_a_model_is_recorded_with_before_and_after(client):
    model = MonitoredModelFactory()
    admin_user = SuperuserFactory()
    client.force_login(admin_user)

    response = client.post(
        change("monitoredmodel", model.pk), model_form_data(model, name="Renamed", risk_tier="medium")
    )

    assert response.status_code == 302, response.content
    entry = LedgerEntry.objects.get(action="registry.model.changed")
    assert entry.payload["changed"] == ["name", "risk_tier", "risk_tier_set_at", "risk_tier_set_by"]
    assert entry.payload["before"]["name"] != "Renamed" and entry.payload["after"]["name"] == "Renamed"
    assert entry.payload["via"] == "admin" and entry.actor_name == admin_user.username
    model.refresh_from_db()
    assert model.risk_tier_set_by == admin_user


def test_an_admin_form_refuses_a_validator_who_developed_the_model(client):
    model = MonitoredModelFactory()
    client.force_login(SuperuserFactory())
    response = client.post(
        change("monitoredmodel", model.pk),
        model_form_data(model, developer=model.owner_id, validator=model.owner_id),
    )
    assert response.status_code == 200
    assert "the validator must be independent of the developer" in response.content.decode()
    assert not LedgerEntry.objects.exists()  # a wrong input is not a refusal: nothing recorded


def test_saved_plans_are_read_only(client):
    plan = MonitoringPlanFactory()
    client.force_login(SuperuserFactory())
    page = client.get(change("monitoringplan", plan.pk))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(change("monitoringplan", plan.pk), {"reason": "x"}).status_code == 403


PLAN_FORM = {
    "reason": "Stricter.",
    "drift_window_days": 1,
    "performance_window_days": 30,
    "window_alignment": "day",
    "time_zone": "UTC",
    "grace_hours": 6,
    "label_maturity_days": 90,
    "alpha": 0.01,
    "correction": "bh",
    "min_sample_size": 1000,
    "drift_share_threshold": 0.2,
    "thresholds": '{"psi": {"value": 0.1, "rationale": "r"},'
    ' "jensenshannon": {"value": 0.1, "rationale": "r"},'
    ' "hellinger": {"value": 0.1, "rationale": "r"}}',
}


def test_a_new_plan_in_the_admin_is_judged_against_the_tier_default(client):
    owner = staff(OwnerFactory())
    model = MonitoredModelFactory(owner=owner)
    client.force_login(owner)
    add = reverse("admin:registry_monitoringplan_add")

    loose = client.post(add, {**PLAN_FORM, "model": model.pk, "alpha": 0.001})
    assert loose.status_code == 200
    assert (
        "0.001 is looser than the high tier&#x27;s 0.01; a policy exception is required"
        in loose.content.decode()
    )
    assert not MonitoringPlan.objects.filter(model=model).exists()

    strict = client.post(add, {**PLAN_FORM, "model": model.pk, "alpha": 0.05})
    assert strict.status_code == 302, strict.content.decode()
    plan = MonitoringPlan.objects.get(model=model)
    assert (plan.number, plan.alpha, plan.created_by) == (1, 0.05, owner)
    entry = LedgerEntry.objects.get(action="registry.plan.created")
    assert entry.payload["via"] == "admin" and entry.payload["after"]["alpha"] == 0.05


def test_only_model_risk_adds_a_tier_default_version(client):
    owner = staff(OwnerFactory())
    client.force_login(owner)
    add = reverse("admin:registry_monitoringplan_add")
    response = client.post(add, {**PLAN_FORM, "tier": "high", "min_sample_size": 900})
    assert "only model risk sets tier defaults" in response.content.decode()

    client.force_login(SuperuserFactory())
    response = client.post(add, {**PLAN_FORM, "tier": "high", "min_sample_size": 900})
    assert response.status_code == 302
    newest = MonitoringPlan.objects.filter(model=None, tier="high").order_by("-number").first()
    assert (newest.number, newest.min_sample_size) == (2, 900)


def test_exceptions_are_proposed_and_approved_in_the_admin_with_four_eyes(client):
    owner = staff(OwnerFactory())
    model = MonitoredModelFactory(owner=owner)
    client.force_login(owner)
    expires = (timezone.now() + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    response = client.post(
        reverse("admin:registry_policyexception_add"),
        {
            "model": model.pk,
            "target": "plan",
            "fields_text": "alpha, colour",
            "reason": "Low volume.",
            "expires_at_0": expires[:10],
            "expires_at_1": expires[11:],
        },
    )
    assert "&#x27;colour&#x27; is not a plan field" in response.content.decode()

    response = client.post(
        reverse("admin:registry_policyexception_add"),
        {
            "model": model.pk,
            "target": "plan",
            "fields_text": "alpha",
            "reason": "Low volume.",
            "expires_at_0": expires[:10],
            "expires_at_1": expires[11:],
        },
    )
    assert response.status_code == 302, response.content.decode()
    exception = PolicyException.objects.get()
    assert exception.proposed_by == owner

    risk = staff(SuperuserFactory())
    client.force_login(risk)
    client.post(changelist("policyexception"), {"action": "approve", "_selected_action": [exception.pk]})
    exception.refresh_from_db()
    assert exception.approved_by == risk
    assert LedgerEntry.objects.filter(action="registry.exception.approved").count() == 1


def test_the_admin_approve_action_refuses_the_proposer(client):
    risk = staff(SuperuserFactory())
    model = MonitoredModelFactory()
    exception = policy_exception_propose(
        model=model,
        target="plan",
        fields=["alpha"],
        reason="r",
        user=risk,
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    client.force_login(risk)
    response = client.post(
        changelist("policyexception"), {"action": "approve", "_selected_action": [exception.pk]}, follow=True
    )
    assert "cannot also approve it" in response.content.decode()
    exception.refresh_from_db()
    assert exception.approved_by is None


def test_an_event_added_in_the_admin_is_recorded_and_checked(client):
    owner = staff(OwnerFactory())
    model = MonitoredModelFactory(owner=owner)
    client.force_login(owner)
    add = reverse("admin:registry_externalevent_add")
    fleet_wide = client.post(
        add,
        {"kind": "campaign", "title": "Spring promo", "starts_at_0": "2026-03-01", "starts_at_1": "00:00:00"},
    )
    assert "needs the model risk role" in fleet_wide.content.decode()

    response = client.post(
        add,
        {
            "kind": "campaign",
            "title": "Spring promo",
            "starts_at_0": "2026-03-01",
            "starts_at_1": "00:00:00",
            "affected_models": [model.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    entry = LedgerEntry.objects.get(action="registry.event.created")
    assert entry.payload["after"]["models"] == [model.slug]
