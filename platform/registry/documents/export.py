"""Models as the database holds them, written out: snapshots, hashed content and the export.

One JSON-safe shape serves the export (``manage.py export_model``), the ledger's before/after and
the comparison that makes an unchanged document change nothing; ``schema_content``,
``plan_content`` and ``policy_content`` are also what a row's ``content_sha256`` covers. This
module changes when a model's fields change, or how an export leaves out what reading would
give back anyway.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from registry import selectors
from registry.documents.fields import iso
from registry.documents.model_document import FORMAT, PLAN_FIELDS, POLICY_FIELDS
from registry.models import (
    FeatureSchema,
    FeatureSpec,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    RetrainingPolicy,
)


def username_of(user: AbstractBaseUser | None) -> str | None:
    """How documents and ledger entries name a person: by username."""
    return user.get_username() if user is not None else None


def model_fields_snapshot(model: MonitoredModel) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "name": model.name,
        "description": model.description,
        "purpose": model.purpose,
        "approved_uses": model.approved_uses,
        "restrictions": model.restrictions,
        "decision_type": model.decision_type,
        "affects_natural_persons": model.affects_natural_persons,
        "task_type": model.task_type,
        "business_unit": model.business_unit,
        "owner": username_of(model.owner),
        "team": model.team.name,
        "developer": username_of(model.developer),
        "validator": username_of(model.validator),
        "accountable_executive": username_of(model.accountable_executive),
        "risk_tier": model.risk_tier,
        "risk_tier_rationale": model.risk_tier_rationale,
        "risk_tier_set_by": username_of(model.risk_tier_set_by),
        "risk_tier_set_at": iso(model.risk_tier_set_at),
        "regulatory_scope": list(model.regulatory_scope or []),
        "personal_data": model.personal_data,
        "legal_hold": model.legal_hold,
        "retention_days": model.retention_days,
        "kpi_name": model.kpi_name,
        "kpi_reference_value": model.kpi_reference_value,
    }


def version_snapshot(version: ModelVersion) -> dict[str, Any]:
    return {
        "label": version.label,
        "artifact_sha256": version.artifact_sha256,
        "status": version.status,
        "role": version.role,
        "deployed_at": iso(version.deployed_at),
        "validated_at": iso(version.validated_at),
        "validated_by": username_of(version.validated_by),
        "retired_at": iso(version.retired_at),
        "retired_by": username_of(version.retired_by),
        "baseline_metrics": sorted(
            (
                {"metric": b.metric, "value": b.value, "holdout": b.holdout}
                for b in version.baseline_metrics.all()
            ),
            key=lambda e: (e["metric"], e["holdout"]),
        ),
    }


def schema_content(schema: FeatureSchema) -> dict[str, Any]:
    """What a schema's ``content_sha256`` covers, in document form."""
    return {
        "record_id_column": schema.record_id_column,
        "timestamp_column": schema.timestamp_column,
        "target_column": schema.target_column,
        "prediction_column": schema.prediction_column,
        "score_columns": list(schema.score_columns or []),
        "query_id_column": schema.query_id_column,
        "expected_rows_per_day": schema.expected_rows_per_day,
        "features": [feature_content(f) for f in schema.features.all()],
    }


def feature_content(feature: FeatureSpec) -> dict[str, Any]:
    return {
        "name": feature.name,
        "kind": feature.kind,
        "nullable": feature.nullable,
        "min_value": feature.min_value,
        "max_value": feature.max_value,
        "categories": list(feature.categories) if feature.categories is not None else None,
        "importance": feature.importance,
        "is_key": feature.is_key,
        "is_segment": feature.is_segment,
        "drift_test": feature.drift_test,
    }


def plan_content(plan: MonitoringPlan) -> dict[str, Any]:
    """What a plan's ``content_sha256`` covers: its fields, not who, why or which number."""
    content = {name: getattr(plan, name) for name in PLAN_FIELDS}
    content["thresholds"] = {
        test: {
            "value": float(e["value"]),
            "rationale": e.get("rationale", ""),
            "approver": e.get("approver", ""),
        }
        for test, e in sorted((plan.thresholds or {}).items())
    }
    return content


def policy_content(policy: RetrainingPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def _section_export(row: MonitoringPlan | RetrainingPolicy, content: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = {"reason": row.reason}
    if row.exception_id is not None:
        section["exception"] = row.exception_id
    section.update(content)
    return section


# What an export leaves out because reading the document gives the same value back.
SCHEMA_DEFAULTS: dict[str, Any] = {
    "record_id_column": "record_id",
    "timestamp_column": "timestamp",
    "target_column": "",
    "prediction_column": "",
    "score_columns": [],
    "query_id_column": "",
    "expected_rows_per_day": None,
}
FEATURE_DEFAULTS: dict[str, Any] = {
    "nullable": True,
    "min_value": None,
    "max_value": None,
    "categories": None,
    "importance": 1.0,
    "is_key": False,
    "is_segment": False,
    "drift_test": "",
}


def _compact_feature(feature: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in feature.items() if k not in FEATURE_DEFAULTS or FEATURE_DEFAULTS[k] != v}


def model_export(model: MonitoredModel) -> dict[str, Any]:
    """The document that registers ``model`` as it is now (JSON-safe; YAML via ``dump_yaml``).

    Plans and policies appear only when the model has its own in force; a model on its tier's
    defaults exports none, and registering the export elsewhere leaves it on the defaults there.
    """
    fields = model_fields_snapshot(model)
    document: dict[str, Any] = {"format": FORMAT, "uid": str(model.uid)}
    document.update({k: v for k, v in fields.items() if v not in (None, "")})
    versions = []
    for version in model.versions.order_by("created_at", "pk"):
        entry = {k: v for k, v in version_snapshot(version).items() if v not in (None, "")}
        schema = selectors.schema_current_or_none(version)
        if schema is not None:
            content = schema_content(schema)
            content["features"] = [_compact_feature(f) for f in content["features"]]
            entry.update(
                {k: v for k, v in content.items() if k not in SCHEMA_DEFAULTS or SCHEMA_DEFAULTS[k] != v}
            )
        versions.append(entry)
    document["versions"] = versions
    plan = selectors.plan_in_force(model)
    if plan.model_id is not None:
        document["plan"] = _section_export(plan, plan_content(plan))
    policy = selectors.policy_in_force(model)
    if policy.model_id is not None:
        document["policy"] = _section_export(policy, policy_content(policy))
    return document
