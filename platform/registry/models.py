"""The model inventory: what is in production, who answers for it, and how it is monitored.

Fields follow what supervisors ask of an inventory (SR 26-2, PRA SS1/23, OSFI E-23 Appendix 1,
EU AI Act); see ../shared/REGULATORY.md. Versioned things (feature schemas, monitoring plans,
retraining policies) are immutable once saved: a change is a new row with who and why.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import F, Q


class RiskTier(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class TaskType(models.TextChoices):
    BINARY = "binary", "Binary classification"
    MULTICLASS = "multiclass", "Multiclass classification"
    REGRESSION = "regression", "Regression"
    RANKING = "ranking", "Ranking / CTR"


class DecisionType(models.TextChoices):
    AUTOMATED = "automated", "Automated"
    ASSISTED = "assisted", "Assisted (human in the loop)"


class LifecycleStatus(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    VALIDATION = "validation", "Validation"
    APPROVED = "approved", "Approved"
    PRODUCTION = "production", "Production"
    RESTRICTED = "restricted", "Restricted"
    RETIRED = "retired", "Retired"


class VersionRole(models.TextChoices):
    NONE = "", "None"
    CHAMPION = "champion", "Champion"
    CHALLENGER = "challenger", "Challenger"


class FeatureKind(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    CATEGORICAL = "categorical", "Categorical"
    BOOLEAN = "boolean", "Boolean"
    DATETIME = "datetime", "Datetime"
    TEXT = "text", "Text"


class WindowAlignment(models.TextChoices):
    DAY = "day", "Calendar day (midnight)"
    WEEK = "week", "ISO week (Monday)"
    MONTH = "month", "Calendar month (the 1st)"


class CorrectionMethod(models.TextChoices):
    BONFERRONI = "bonferroni", "Bonferroni"
    HOLM = "holm", "Holm"
    BH = "bh", "Benjamini-Hochberg"


class MonitoredModel(models.Model):
    uid = models.UUIDField("permanent id", default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    purpose = models.TextField(blank=True)
    approved_uses = models.TextField(blank=True)
    restrictions = models.TextField("restrictions on use", blank=True)
    decision_type = models.CharField(max_length=16, choices=DecisionType.choices)
    affects_natural_persons = models.BooleanField(default=False)
    task_type = models.CharField(max_length=16, choices=TaskType.choices)
    business_unit = models.CharField(max_length=100)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="owned_models")
    team = models.ForeignKey(Group, models.PROTECT, related_name="models")
    developer = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="developed_models"
    )
    validator = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="validated_models"
    )
    accountable_executive = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="accountable_models"
    )

    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices)
    risk_tier_rationale = models.TextField()
    risk_tier_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk_tier_set_at = models.DateTimeField(null=True, blank=True)

    regulatory_scope = models.JSONField(
        default=list, blank=True, help_text='tags such as "eu-ai-act-high-risk", "credit-decisions"'
    )
    personal_data = models.BooleanField(default=False)
    legal_hold = models.BooleanField(default=False)
    retention_days = models.PositiveIntegerField(
        default=400, help_text="raw batches and raw-value profiles may be purged after this"
    )
    kpi_name = models.CharField("business KPI", max_length=100, blank=True)
    kpi_reference_value = models.FloatField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("slug",)
        constraints = (
            models.CheckConstraint(
                condition=(
                    Q(validator__isnull=True) | Q(developer__isnull=True) | ~Q(validator=F("developer"))
                ),
                name="registry_validator_is_not_developer",
                violation_error_message="the validator must not be the developer",
            ),
        )

    def __str__(self) -> str:
        return self.slug


class ModelVersion(models.Model):
    model = models.ForeignKey(MonitoredModel, models.PROTECT, related_name="versions")
    label = models.CharField(max_length=64)
    artifact_sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=LifecycleStatus.choices, default=LifecycleStatus.DEVELOPMENT
    )
    role = models.CharField(max_length=16, choices=VersionRole.choices, default=VersionRole.NONE, blank=True)
    deployed_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("model", "created_at")
        constraints = (
            models.UniqueConstraint(fields=("model", "label"), name="registry_version_label_unique"),
            models.UniqueConstraint(
                fields=("model",),
                condition=Q(role="champion", status="production"),
                name="registry_one_production_champion",
                violation_error_message="a model has one champion in production at a time",
            ),
        )

    def __str__(self) -> str:
        return f"{self.model.slug}@{self.label}"


class BaselineMetric(models.Model):
    """A validated metric: what was signed off at validation, which stage 0 of every check
    recomputes on the same holdout before anything is blamed on drift."""

    version = models.ForeignKey(ModelVersion, models.CASCADE, related_name="baseline_metrics")
    metric = models.CharField(max_length=50)
    value = models.FloatField()
    holdout = models.CharField(max_length=100, help_text="which holdout the value was measured on")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("version", "metric", "holdout"), name="registry_baseline_unique"),
        )

    def __str__(self) -> str:
        return f"{self.metric}={self.value} on {self.holdout}"


class FeatureSchema(models.Model):
    """One immutable version of a model version's columns; an edit is a new ``number``."""

    version = models.ForeignKey(ModelVersion, models.PROTECT, related_name="schemas")
    number = models.PositiveIntegerField()
    record_id_column = models.CharField(max_length=100, default="record_id")
    timestamp_column = models.CharField(max_length=100, default="timestamp")
    target_column = models.CharField(max_length=100, blank=True)
    prediction_column = models.CharField(max_length=100, blank=True)
    score_columns = models.JSONField(default=list, blank=True, help_text="one per class for multiclass")
    query_id_column = models.CharField(max_length=100, blank=True, help_text="ranking only")
    expected_rows_per_day = models.PositiveIntegerField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, help_text="hash of the canonical content")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("version", "-number")
        constraints = (
            models.UniqueConstraint(fields=("version", "number"), name="registry_schema_number_unique"),
        )

    def __str__(self) -> str:
        return f"{self.version} schema v{self.number}"


class FeatureSpec(models.Model):
    schema = models.ForeignKey(FeatureSchema, models.CASCADE, related_name="features")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=FeatureKind.choices)
    nullable = models.BooleanField(default=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    categories = models.JSONField(null=True, blank=True)
    importance = models.FloatField(default=1.0)
    is_key = models.BooleanField("key feature", default=False)
    is_segment = models.BooleanField("segment column", default=False)
    drift_test = models.CharField(max_length=32, blank=True, help_text="override the automatic choice")

    class Meta:
        ordering = ("schema", "position")
        constraints = (
            models.UniqueConstraint(fields=("schema", "name"), name="registry_feature_name_unique"),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class PolicyException(models.Model):
    """Permission to loosen named fields of a model's plan or policy below its tier's default.

    Proposed by one user, approved by a model-risk user who is not the proposer, and valid only
    until it expires. It exists only as this object: a YAML file can reference it, never grant it.
    """

    class Target(models.TextChoices):
        PLAN = "plan", "Monitoring plan"
        POLICY = "policy", "Retraining policy"

    model = models.ForeignKey(MonitoredModel, models.PROTECT, related_name="policy_exceptions")
    target = models.CharField(max_length=8, choices=Target.choices)
    fields = models.JSONField(help_text="names of the fields this exception allows to loosen")
    reason = models.TextField()
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("proposed_by")),
                name="registry_exception_four_eyes",
                violation_error_message="an exception cannot be approved by its proposer",
            ),
        )

    def __str__(self) -> str:
        return f"exception #{self.pk} for {self.model.slug} {self.target}"


class _VersionedPolicy(models.Model):
    """Shared shape of plans and policies: a tier default when ``model`` is null, else a model's
    own; each save is a new ``number``; ``in_force`` is the newest per (model, tier)."""

    model = models.ForeignKey(MonitoredModel, models.PROTECT, null=True, blank=True, related_name="+")
    tier = models.CharField(max_length=8, choices=RiskTier.choices)
    number = models.PositiveIntegerField()
    reason = models.TextField(help_text="why this version exists")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    exception = models.ForeignKey(
        PolicyException,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the exception that allowed a loosening",
    )
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(f"{self._meta.verbose_name} versions are immutable; create a new version")
        super().save(*args, **kwargs)


class MonitoringPlan(_VersionedPolicy):
    drift_window_days = models.PositiveIntegerField()
    performance_window_days = models.PositiveIntegerField()
    window_alignment = models.CharField(
        max_length=8, choices=WindowAlignment.choices, default=WindowAlignment.DAY
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    grace_hours = models.PositiveIntegerField(help_text="after window end, before a run counts as late")
    label_maturity_days = models.PositiveIntegerField(
        help_text="wait after a performance window closes for its labels to arrive"
    )
    alpha = models.FloatField(help_text="significance level of the drift tests")
    correction = models.CharField(
        max_length=16, choices=CorrectionMethod.choices, default=CorrectionMethod.HOLM
    )
    min_sample_size = models.PositiveIntegerField()
    drift_share_threshold = models.FloatField(help_text="importance-weighted share of drifted features")
    thresholds = models.JSONField(
        default=dict,
        blank=True,
        help_text='per test: {"psi": {"value": 0.2, "rationale": "...", "approver": "..."}}',
    )

    class Meta:
        ordering = ("model", "tier", "-number")
        constraints = (
            models.UniqueConstraint(
                fields=("model", "tier", "number"), name="registry_plan_number_unique", nulls_distinct=False
            ),
        )

    def __str__(self) -> str:
        return f"plan v{self.number} ({self.model or self.tier + ' tier default'})"


class RetrainingPolicy(_VersionedPolicy):
    performance_metric = models.CharField(max_length=50, default="auc")
    performance_tolerance_abs = models.FloatField(help_text="largest tolerated drop, absolute")
    performance_tolerance_rel = models.FloatField(help_text="largest tolerated drop, relative")
    confidence_level = models.FloatField(default=0.95)
    kpi_gate = models.FloatField(
        null=True, blank=True, help_text="relative KPI drop that, with concept drift, triggers a retrain"
    )
    cooldown_days = models.PositiveIntegerField()
    max_model_age_days = models.PositiveIntegerField()
    approvals_required = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("model", "tier", "-number")
        verbose_name_plural = "retraining policies"
        constraints = (
            models.UniqueConstraint(
                fields=("model", "tier", "number"), name="registry_policy_number_unique", nulls_distinct=False
            ),
        )

    def __str__(self) -> str:
        return f"policy v{self.number} ({self.model or self.tier + ' tier default'})"


class ExternalEvent(models.Model):
    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", "Campaign"
        PRODUCT_LAUNCH = "product_launch", "Product launch"
        PIPELINE_CHANGE = "pipeline_change", "Pipeline change"
        ECONOMIC_EVENT = "economic_event", "Economic event"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    affected_models = models.ManyToManyField(
        MonitoredModel,
        related_name="external_events",
        blank=True,
        help_text="models it may touch; none means the whole fleet",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-starts_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class ServiceAccount(models.Model):
    """A machine (a serving stack, a pipeline) with an API token scoped to the models it may
    write. Only a SHA-256 of the token is stored; the token is shown once, at creation."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.PROTECT, related_name="service_account")
    name = models.CharField(max_length=100, unique=True)
    token_prefix = models.CharField(max_length=12, db_index=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    scoped_models = models.ManyToManyField(MonitoredModel, related_name="service_accounts", blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
