"""Read representations. Writes take the registry document (docs/registry.md) and go through
``registry.services``, which validates it; nothing here validates or saves."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import (
    BaselineMetric,
    ExternalEvent,
    FeatureSchema,
    FeatureSpec,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    PolicyException,
    RetrainingPolicy,
    RiskTier,
)


# drf-spectacular names an enum after its field; two fields named "kind" with different choices,
# and one choice set under two names ("risk_tier", "tier"), would be named by guesswork. These
# two are named components instead.
@extend_schema_field({"type": "string", "enum": list(RiskTier.values)}, component_name="Tier")
class TierField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": list(ExternalEvent.Kind.values)}, component_name="EventKind")
class EventKindField(serializers.CharField):
    pass


class Username(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="username", read_only=True, **kwargs)


class ModelSlug(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", read_only=True, **kwargs)


class ModelSummarySerializer(serializers.ModelSerializer):
    owner = Username()
    team = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = MonitoredModel
        fields = (
            "slug",
            "uid",
            "name",
            "task_type",
            "risk_tier",
            "business_unit",
            "owner",
            "team",
            "updated_at",
        )


class ModelDetailSerializer(ModelSummarySerializer):
    developer = Username()
    validator = Username()
    accountable_executive = Username()
    risk_tier_set_by = Username()
    versions = serializers.SlugRelatedField(slug_field="label", many=True, read_only=True)

    class Meta:
        model = MonitoredModel
        fields = (
            "slug",
            "uid",
            "name",
            "description",
            "purpose",
            "approved_uses",
            "restrictions",
            "decision_type",
            "affects_natural_persons",
            "task_type",
            "business_unit",
            "owner",
            "team",
            "developer",
            "validator",
            "accountable_executive",
            "risk_tier",
            "risk_tier_rationale",
            "risk_tier_set_by",
            "risk_tier_set_at",
            "regulatory_scope",
            "personal_data",
            "legal_hold",
            "retention_days",
            "kpi_name",
            "kpi_reference_value",
            "versions",
            "created_at",
            "updated_at",
        )


class BaselineMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = BaselineMetric
        fields = ("metric", "value", "holdout")


class VersionSerializer(serializers.ModelSerializer):
    model = ModelSlug()
    retired_by = Username()
    validated_by = Username()
    baseline_metrics = BaselineMetricSerializer(many=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = (
            "model",
            "label",
            "artifact_sha256",
            "status",
            "role",
            "deployed_at",
            "retired_at",
            "retired_by",
            "validated_at",
            "validated_by",
            "baseline_metrics",
            "created_at",
        )


class FeatureSpecSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeatureSpec
        fields = (
            "position",
            "name",
            "kind",
            "nullable",
            "min_value",
            "max_value",
            "categories",
            "importance",
            "is_key",
            "is_segment",
            "drift_test",
        )


class FeatureSchemaSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.slug", read_only=True)
    version = serializers.CharField(source="version.label", read_only=True)
    created_by = Username()
    features = FeatureSpecSerializer(many=True, read_only=True)

    class Meta:
        model = FeatureSchema
        fields = (
            "model",
            "version",
            "number",
            "record_id_column",
            "timestamp_column",
            "target_column",
            "prediction_column",
            "score_columns",
            "query_id_column",
            "expected_rows_per_day",
            "content_sha256",
            "created_by",
            "created_at",
            "features",
        )


_VERSIONED = (
    "id",
    "model",
    "tier",
    "number",
    "reason",
    "created_by",
    "created_at",
    "exception",
    "content_sha256",
)


class PlanSerializer(serializers.ModelSerializer):
    model = ModelSlug(allow_null=True)
    tier = TierField(read_only=True)
    created_by = Username()

    class Meta:
        model = MonitoringPlan
        fields = (
            *_VERSIONED,
            "drift_window_days",
            "performance_window_days",
            "window_alignment",
            "time_zone",
            "grace_hours",
            "label_maturity_days",
            "alpha",
            "correction",
            "min_sample_size",
            "drift_share_threshold",
            "thresholds",
        )


class PolicySerializer(serializers.ModelSerializer):
    model = ModelSlug(allow_null=True)
    tier = TierField(read_only=True)
    created_by = Username()

    class Meta:
        model = RetrainingPolicy
        fields = (
            *_VERSIONED,
            "performance_metric",
            "performance_tolerance_abs",
            "performance_tolerance_rel",
            "confidence_level",
            "kpi_gate",
            "cooldown_days",
            "max_model_age_days",
            "approvals_required",
        )


class PolicyExceptionSerializer(serializers.ModelSerializer):
    model = ModelSlug()
    proposed_by = Username()
    approved_by = Username()

    class Meta:
        model = PolicyException
        fields = (
            "id",
            "model",
            "target",
            "fields",
            "reason",
            "proposed_by",
            "proposed_at",
            "approved_by",
            "approved_at",
            "expires_at",
        )


class ExternalEventSerializer(serializers.ModelSerializer):
    # Only the affected models the caller may see (prefetched as ``visible_models``): an event
    # shared with another team's model must not reveal that model's slug.
    kind = EventKindField(read_only=True)
    models = serializers.SerializerMethodField()
    fleet_wide = serializers.SerializerMethodField()
    created_by = Username()

    class Meta:
        model = ExternalEvent
        fields = (
            "id",
            "kind",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "fleet_wide",
            "models",
            "created_by",
            "created_at",
        )

    def get_fleet_wide(self, event: ExternalEvent) -> bool:
        """True when the event names no model at all (it may touch the whole fleet)."""
        total = getattr(event, "affected_total", None)
        if total is None:
            total = event.affected_models.count()
        return total == 0

    def get_models(self, event: ExternalEvent) -> list[str]:
        visible = getattr(event, "visible_models", None)
        if visible is None:
            visible = event.affected_models.all()
        return [model.slug for model in visible]


# --- write results and errors (documentation of the responses; nothing is validated here) ------


class ModelApplyResultSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="true when the document registered a new model")
    changes = serializers.ListField(
        child=serializers.CharField(), help_text="what changed, one sentence each; empty when nothing did"
    )
    model = ModelDetailSerializer()


def apply_result(result: Any) -> dict[str, Any]:
    """The response to POST/PUT of a document, from ``registry.services.apply.ApplyResult``."""
    return {
        "created": result.created,
        "changes": list(result.changes),
        "model": ModelDetailSerializer(result.model).data,
    }


class ValidationErrorsSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.CharField(),
        help_text="dotted path of the offending field -> what is wrong, e.g. "
        '{"versions[0].label": "missing required key"}',
    )


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="on a 403 from the registry's rules: the part of the input that needs the "
        'permission, e.g. {"team": "..."}',
    )


# --- request bodies -----------------------------------------------------------------------------


class ExceptionProposalSerializer(serializers.Serializer):
    """Reads JSON types only (an ISO 8601 date-time into a datetime); what the values may be is
    ``registry.services.policy_exception_propose``'s to judge."""

    target = serializers.CharField(help_text='"plan" or "policy"')
    fields = serializers.ListField(
        child=serializers.CharField(),
        help_text='names of the fields to loosen, e.g. ["alpha", "thresholds.psi"]',
    )
    reason = serializers.CharField(allow_blank=True)
    expires_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone; at most a year ahead")


class ExternalEventInputSerializer(serializers.Serializer):
    """The body of POST /api/events/ (documentation: ``registry.services`` validates it)."""

    kind = EventKindField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    models = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        help_text="slugs of the models it may touch; none means the whole fleet (model risk only)",
    )


def flat_errors(errors: Any, path: str = "") -> dict[str, str]:
    """DRF's nested error structure as the registry's ``{"dotted.path[0]": "message"}``."""
    if isinstance(errors, dict):
        flat: dict[str, str] = {}
        for key, value in errors.items():
            child = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
            flat.update(flat_errors(value, child))
        return flat
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return {path or "document": " ".join(str(e) for e in errors)}
    if isinstance(errors, list):
        flat = {}
        for index, value in enumerate(errors):
            if value:
                flat.update(flat_errors(value, f"{path}[{index}]"))
        return flat
    return {path or "document": str(errors)}
