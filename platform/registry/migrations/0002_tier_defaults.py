"""Tier-default monitoring plans and retraining policies (rows with ``model`` null).

Cadences follow ../shared/REGULATORY.md: high tier daily drift and monthly (30-day) performance,
medium weekly and quarterly, low monthly and semi-annual. Every model's own plan or policy may
only be stricter than these (see registry/strictness.py and docs/registry.md).

The values and the content hash are frozen here on purpose: a migration must not change when the
application code is later edited. ``tests/registry/test_tier_defaults.py`` checks that the hash
below equals the application's ``registry.documents.fields.content_sha256`` of the same content.
"""

import hashlib

import rfc8785
from django.db import migrations

REASON = (
    "Tier default of the monitoring policy: high tier daily drift and monthly performance, "
    "medium weekly and quarterly, low monthly and semi-annual."
)

PLANS = {
    "high": {
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
        "thresholds": {
            "psi": {
                "value": 0.1,
                "rationale": "PSI above 0.1 is a moderate shift; high-risk models act on it.",
                "approver": "model risk committee",
            },
            "jensenshannon": {
                "value": 0.1,
                "rationale": "Jensen-Shannon distance (base 2) above 0.1 on a high-risk model's input.",
                "approver": "model risk committee",
            },
            "hellinger": {
                "value": 0.1,
                "rationale": "Hellinger distance above 0.1 on a high-risk model's input.",
                "approver": "model risk committee",
            },
        },
    },
    "medium": {
        "drift_window_days": 7,
        "performance_window_days": 91,
        "window_alignment": "day",
        "time_zone": "UTC",
        "grace_hours": 24,
        "label_maturity_days": 120,
        "alpha": 0.005,
        "correction": "holm",
        "min_sample_size": 500,
        "drift_share_threshold": 0.3,
        "thresholds": {
            "psi": {
                "value": 0.2,
                "rationale": "PSI above 0.2 is a significant shift (industry convention 0.1/0.25, tightened).",
                "approver": "model risk committee",
            },
            "jensenshannon": {
                "value": 0.15,
                "rationale": "Jensen-Shannon distance (base 2) above 0.15.",
                "approver": "model risk committee",
            },
            "hellinger": {
                "value": 0.15,
                "rationale": "Hellinger distance above 0.15.",
                "approver": "model risk committee",
            },
        },
    },
    "low": {
        "drift_window_days": 30,
        "performance_window_days": 182,
        "window_alignment": "day",
        "time_zone": "UTC",
        "grace_hours": 72,
        "label_maturity_days": 180,
        "alpha": 0.001,
        "correction": "bonferroni",
        "min_sample_size": 200,
        "drift_share_threshold": 0.5,
        "thresholds": {
            "psi": {
                "value": 0.25,
                "rationale": "PSI above 0.25 is a significant shift (industry convention).",
                "approver": "model risk committee",
            },
            "jensenshannon": {
                "value": 0.2,
                "rationale": "Jensen-Shannon distance (base 2) above 0.2.",
                "approver": "model risk committee",
            },
            "hellinger": {
                "value": 0.2,
                "rationale": "Hellinger distance above 0.2.",
                "approver": "model risk committee",
            },
        },
    },
}

POLICIES = {
    "high": {
        "performance_metric": "auc",
        "performance_tolerance_abs": 0.02,
        "performance_tolerance_rel": 0.03,
        "confidence_level": 0.95,
        "kpi_gate": 0.05,
        "cooldown_days": 14,
        "max_model_age_days": 365,
        "approvals_required": 2,
    },
    "medium": {
        "performance_metric": "auc",
        "performance_tolerance_abs": 0.03,
        "performance_tolerance_rel": 0.05,
        "confidence_level": 0.95,
        "kpi_gate": 0.1,
        "cooldown_days": 30,
        "max_model_age_days": 540,
        "approvals_required": 1,
    },
    "low": {
        "performance_metric": "auc",
        "performance_tolerance_abs": 0.05,
        "performance_tolerance_rel": 0.08,
        "confidence_level": 0.95,
        "kpi_gate": None,
        "cooldown_days": 60,
        "max_model_age_days": 730,
        "approvals_required": 1,
    },
}


def _sha256(content):
    return hashlib.sha256(rfc8785.dumps(content)).hexdigest()


def create_tier_defaults(apps, schema_editor):
    alias = schema_editor.connection.alias
    MonitoringPlan = apps.get_model("registry", "MonitoringPlan")
    RetrainingPolicy = apps.get_model("registry", "RetrainingPolicy")
    for tier, content in PLANS.items():
        if not MonitoringPlan.objects.using(alias).filter(model=None, tier=tier).exists():
            MonitoringPlan.objects.using(alias).create(
                model=None, tier=tier, number=1, reason=REASON, content_sha256=_sha256(content), **content
            )
    for tier, content in POLICIES.items():
        if not RetrainingPolicy.objects.using(alias).filter(model=None, tier=tier).exists():
            RetrainingPolicy.objects.using(alias).create(
                model=None, tier=tier, number=1, reason=REASON, content_sha256=_sha256(content), **content
            )


def remove_tier_defaults(apps, schema_editor):
    alias = schema_editor.connection.alias
    for name in ("MonitoringPlan", "RetrainingPolicy"):
        model = apps.get_model("registry", name)
        model.objects.using(alias).filter(model=None, number=1, reason=REASON).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(create_tier_defaults, remove_tier_defaults)]
