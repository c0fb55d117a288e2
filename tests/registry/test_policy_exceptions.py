"""Loosening a plan or policy below the tier default, and the exceptions that allow it."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import rfc8785
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.ledger.models import LedgerEntry
from registry.models import MonitoringPlan, PolicyException
from registry.selectors import plan_in_force, policy_in_force
from registry.services import (
    RegistryLooseningRefused,
    RegistryPermissionDenied,
    RegistryValidationError,
    model_apply,
    policy_exception_approve,
    policy_exception_propose,
)
from tests.registry.factories import MonitoredModelFactory, PolicyExceptionFactory

pytestmark = pytest.mark.django_db

LOOSE_PLAN = {"reason": "Seasonal volume is too low for alarms at 0.01.", "alpha": 0.001}


@pytest.fixture
def model(world):
    return model_apply(document=world.document(), user=world.alice).model


def propose(world, model, **overrides):
    arguments = {
        "model": model,
        "target": "plan",
        "fields": ["alpha"],
        "reason": "Seasonal volume.",
        "user": world.alice,
        "expires_at": timezone.now() + dt.timedelta(days=30),
    }
    arguments.update(overrides)
    return policy_exception_propose(**arguments)


def test_a_loosening_without_an_exception_is_refused_with_the_field_named(world, model):
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(document=world.document(plan=LOOSE_PLAN), user=world.alice)

    assert excinfo.value.errors == {
        "plan.alpha": ("0.001 is looser than the high tier's 0.01; a policy exception is required")
    }
    assert not MonitoringPlan.objects.filter(model=model).exists()
    refusal = LedgerEntry.objects.get(action="registry.model.refused")
    assert refusal.payload["refusal"] == "loosening"
    assert refusal.payload["errors"] == excinfo.value.errors


def test_every_loosened_field_is_named(world, model):
    plan = {
        "reason": "Looser everywhere.",
        "time_zone": "Europe/Paris",
        "correction": "holm",
        "min_sample_size": 100,
        "thresholds": {"psi": {"value": 0.3, "rationale": "r"}},
    }
    policy = {"reason": "Later retrains.", "cooldown_days": 60, "approvals_required": 1, "kpi_gate": None}
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(document=world.document(plan=plan, policy=policy), user=world.alice)
    errors = excinfo.value.errors
    assert set(errors) == {
        "plan.time_zone",
        "plan.correction",
        "plan.min_sample_size",
        "plan.thresholds.psi",
        "plan.thresholds.jensenshannon",
        "plan.thresholds.hellinger",
        "policy.cooldown_days",
        "policy.approvals_required",
        "policy.kpi_gate",
    }
    assert errors["plan.time_zone"].startswith(
        "'Europe/Paris' cannot be compared with the high tier's 'UTC', so it counts as looser"
    )
    assert errors["plan.thresholds.hellinger"].startswith(
        "the high tier sets thresholds.hellinger at 0.1; leaving it out is looser"
    )


def test_an_exception_approved_by_its_own_proposer_is_refused_and_recorded(world, model):
    # Rita (model risk) proposes; she cannot approve her own proposal.
    exception = propose(world, model, user=world.rita)
    with pytest.raises(RegistryPermissionDenied) as excinfo:
        policy_exception_approve(exception=exception, user=world.rita)
    assert "cannot also approve it" in excinfo.value.message
    exception.refresh_from_db()
    assert exception.approved_by is None
    refused = LedgerEntry.objects.get(action="registry.exception.refused")
    assert refused.actor_name == "rita" and refused.payload["step"] == "approve"


def test_an_unapproved_exception_does_not_allow_the_loosening(world, model):
    exception = propose(world, model)
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(document=world.document(plan={**LOOSE_PLAN, "exception": exception.pk}), user=world.alice)
    assert excinfo.value.errors["plan.alpha"].endswith(f"exception #{exception.pk} is not approved yet")


def test_an_expired_exception_is_refused(world, model):
    exception = PolicyExceptionFactory(
        model=model,
        approved_by=world.rita,
        approved_at=timezone.now() - dt.timedelta(days=9),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(document=world.document(plan={**LOOSE_PLAN, "exception": exception.pk}), user=world.alice)
    assert f"exception #{exception.pk} expired on" in excinfo.value.errors["plan.alpha"]
    assert not MonitoringPlan.objects.filter(model=model).exists()


def test_an_exception_that_does_not_cover_the_field_is_refused(world, model):
    exception = propose(world, model, fields=["min_sample_size"])
    policy_exception_approve(exception=exception, user=world.rita)
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(document=world.document(plan={**LOOSE_PLAN, "exception": exception.pk}), user=world.alice)
    assert excinfo.value.errors["plan.alpha"].endswith(f"exception #{exception.pk} does not cover alpha")


def test_another_models_or_targets_exception_is_refused(world, model):
    other = MonitoredModelFactory(owner=world.alice, team=world.team)
    theirs = propose(world, other)
    policy_exception_approve(exception=theirs, user=world.rita)
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(document=world.document(plan={**LOOSE_PLAN, "exception": theirs.pk}), user=world.alice)
    assert f"is for model '{other.slug}'" in excinfo.value.errors["plan.exception"]

    policy_one = propose(world, model, target="policy", fields=["cooldown_days"])
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(
            document=world.document(plan={**LOOSE_PLAN, "exception": policy_one.pk}), user=world.alice
        )
    assert "is for the policy, not the plan" in excinfo.value.errors["plan.exception"]

    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(document=world.document(plan={**LOOSE_PLAN, "exception": 999999}), user=world.alice)
    assert excinfo.value.errors["plan.exception"] == "there is no policy exception #999999"


def test_an_unexpired_exception_approved_by_someone_else_allows_it_and_is_recorded(world, model):
    exception = propose(world, model)
    approved = policy_exception_approve(exception=exception, user=world.rita)
    assert (approved.approved_by, approved.proposed_by) == (world.rita, world.alice)

    result = model_apply(
        document=world.document(plan={**LOOSE_PLAN, "exception": exception.pk}), user=world.alice
    )

    plan = plan_in_force(model)
    assert (plan.number, plan.alpha, plan.exception_id) == (1, 0.001, exception.pk)
    assert result.changes == [
        f"plan v1 replaces tier default: alpha 0.01 -> 0.001 under exception #{exception.pk}"
    ]
    created = LedgerEntry.objects.get(action="registry.plan.created")
    assert created.payload["loosened"] == ["alpha"]
    assert created.payload["exception"] == exception.pk
    assert created.payload["before"]["tier_default"] is True
    approval = LedgerEntry.objects.get(action="registry.exception.approved")
    assert approval.actor_name == "rita"
    snapshot = approval.payload["exception"]
    assert approval.payload["approved_sha256"] == hashlib.sha256(rfc8785.dumps(snapshot)).hexdigest()
    assert snapshot["fields"] == ["alpha"] and snapshot["proposed_by"] == "alice"
    # Unchanged afterwards: nothing new.
    count = LedgerEntry.objects.count()
    again = model_apply(
        document=world.document(plan={**LOOSE_PLAN, "exception": exception.pk}), user=world.alice
    )
    assert again.changes == [] and LedgerEntry.objects.count() == count


def test_once_the_exception_expires_the_tier_default_is_in_force_again(world, model):
    exception = propose(world, model)
    policy_exception_approve(exception=exception, user=world.rita)
    model_apply(document=world.document(plan={**LOOSE_PLAN, "exception": exception.pk}), user=world.alice)
    PolicyException.objects.filter(pk=exception.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    plan = plan_in_force(model)
    assert (plan.model_id, plan.alpha) == (None, 0.01)
    # and re-applying the loosened plan is refused now
    with pytest.raises(RegistryLooseningRefused):
        model_apply(document=world.document(plan={**LOOSE_PLAN, "exception": exception.pk}), user=world.alice)


def test_a_stricter_plan_and_policy_need_no_exception(world, model):
    model_apply(
        document=world.document(
            plan={
                "reason": "More alarms.",
                "alpha": 0.05,
                "correction": "bh",
                "min_sample_size": 5000,
                "label_maturity_days": 60,
                "thresholds": {
                    "psi": {"value": 0.05, "rationale": "r"},
                    "jensenshannon": {"value": 0.1, "rationale": "r"},
                    "hellinger": {"value": 0.1, "rationale": "r"},
                    "kl": {"value": 0.2, "rationale": "an extra test"},
                },
            },
            policy={
                "reason": "Sooner.",
                "cooldown_days": 1,
                "approvals_required": 3,
                "confidence_level": 0.9,
            },
        ),
        user=world.alice,
    )
    assert plan_in_force(model).min_sample_size == 5000
    assert policy_in_force(model).approvals_required == 3


# --- proposing and approving ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"target": "budget"}, "target", "'budget' is not one of plan, policy"),
        ({"fields": []}, "fields", "name at least one field"),
        ({"fields": ["colour"]}, "fields[0]", "'colour' is not a plan field"),
        ({"fields": ["thresholds.made_up"]}, "fields[0]", "is not a plan field"),
        ({"target": "policy", "fields": ["alpha"]}, "fields[0]", "'alpha' is not a policy field"),
        ({"reason": "  "}, "reason", "say why"),
        ({"expires_at": timezone.now() - dt.timedelta(days=1)}, "expires_at", "is in the past"),
        ({"expires_at": timezone.now() + dt.timedelta(days=400)}, "expires_at", "at most 365 days"),
        ({"expires_at": dt.datetime(2099, 1, 1)}, "expires_at", "with a time zone"),
    ],
)
def test_a_bad_proposal_is_refused_with_the_field_named(world, model, overrides, path, message):
    with pytest.raises(RegistryValidationError) as excinfo:
        propose(world, model, **overrides)
    assert message in excinfo.value.errors[path]
    assert not PolicyException.objects.exists()


def test_only_someone_who_may_change_the_model_proposes(world, model):
    with pytest.raises(RegistryPermissionDenied):
        propose(world, model, user=world.bob)
    with pytest.raises(RegistryPermissionDenied):
        propose(world, model, user=world.ada)
    assert LedgerEntry.objects.filter(action="registry.exception.refused").count() == 2


def test_only_model_risk_approves(world, model):
    exception = propose(world, model)
    for user in (world.alice, world.bob, world.ada):
        with pytest.raises(RegistryPermissionDenied):
            policy_exception_approve(exception=exception, user=user)
    policy_exception_approve(exception=exception, user=world.mo)
    with pytest.raises(RegistryValidationError) as excinfo:
        policy_exception_approve(exception=exception, user=world.rita)
    assert "already approved" in excinfo.value.errors["approved_by"]


def test_an_expired_proposal_cannot_be_approved(world, model):
    exception = PolicyExceptionFactory(model=model, expires_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(RegistryValidationError) as excinfo:
        policy_exception_approve(exception=exception, user=world.rita)
    assert "expired" in excinfo.value.errors["expires_at"]


def test_the_commands_propose_and_approve(world, model, capsys):
    call_command(
        "exception_propose",
        model.slug,
        "--target",
        "plan",
        "--field",
        "alpha",
        "--reason",
        "Seasonal volume.",
        "--expires",
        (timezone.now() + dt.timedelta(days=10)).date().isoformat(),
        "--actor",
        "alice",
    )
    exception = PolicyException.objects.get()
    assert f"proposed exception #{exception.pk}" in capsys.readouterr().out

    with pytest.raises(CommandError) as excinfo:
        call_command("exception_approve", str(exception.pk), "--actor", "alice")
    assert excinfo.value.returncode == 2 and "needs the model risk role" in str(excinfo.value)

    call_command("exception_approve", str(exception.pk), "--actor", "rita")
    assert f"approved exception #{exception.pk}" in capsys.readouterr().out
    entry = LedgerEntry.objects.get(action="registry.exception.approved")
    assert entry.payload["operator"]  # the person at the shell, beside the actor


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-model", "--actor", "alice"], "there is no model 'no-such-model'"),
        (["retail-pd", "--actor", "nobody"], "--actor nobody: there is no such active user"),
        (["retail-pd", "--actor", "alice", "--expires-override"], None),
    ],
)
def test_exception_propose_refuses_bad_arguments(world, model, argv, message):
    base = ["--target", "plan", "--field", "alpha", "--reason", "r", "--expires", "2099-01-01"]
    if message is None:
        with pytest.raises((CommandError, SystemExit)):
            call_command("exception_propose", *argv, *base)
        return
    with pytest.raises(CommandError) as excinfo:
        call_command("exception_propose", *argv, *base)
    assert excinfo.value.returncode == 2 and message in str(excinfo.value)


def test_exception_propose_refuses_a_bad_date_and_a_far_expiry(world, model):
    base = [model.slug, "--target", "plan", "--field", "alpha", "--reason", "r", "--actor", "alice"]
    with pytest.raises(CommandError) as excinfo:
        call_command("exception_propose", *base, "--expires", "next tuesday")
    assert "--expires: 'next tuesday' is not a date-time" in str(excinfo.value)
    with pytest.raises(CommandError) as excinfo:
        call_command("exception_propose", *base, "--expires", "2099-01-01")
    assert "expires_at: an exception lasts at most 365 days" in str(excinfo.value)


def test_exception_approve_refuses_an_unknown_id(world):
    with pytest.raises(CommandError) as excinfo:
        call_command("exception_approve", "4242", "--actor", "rita")
    assert excinfo.value.returncode == 2 and "no policy exception #4242" in str(excinfo.value)


def test_a_new_model_cannot_rest_on_an_exception(world, model):
    exception = propose(world, model)
    policy_exception_approve(exception=exception, user=world.rita)
    with pytest.raises(RegistryLooseningRefused) as excinfo:
        model_apply(
            document=world.document(slug="brand-new", plan={**LOOSE_PLAN, "exception": exception.pk}),
            user=world.alice,
        )
    assert "register it on the tier's plan first" in excinfo.value.errors["plan.exception"]
