"""Check runs and what they found.

A ``CheckRun`` is one model version x one window x one kind (``drift`` or ``performance``) x one
revision. Results are rows (per feature, per metric, per stage) so that reports and the console
query them without parsing JSON. Nothing is overwritten: a backfill or a recompute is a new
revision that points at the run it supersedes.

A ``Finding`` is what the stages flagged, kept across revisions: one open row per identity
(model version, window, run kind, finding kind, subject), which a later revision updates or
closes ("no longer holds in revision N") and never doubles.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class RunKind(models.TextChoices):
    DRIFT = "drift", "Drift"
    PERFORMANCE = "performance", "Performance"


class RunStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    MISSED = "missed", "Missed"


FINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.MISSED)


class RunOrigin(models.TextChoices):
    SCHEDULE = "schedule", "Nightly sweep"
    EMBEDDED = "embedded", "run_checks (in-process)"
    BACKFILL = "backfill", "Backfill after late labels"
    RECOMPUTE = "recompute", "Recompute (replay)"


class StageStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class CheckRun(models.Model):
    model = models.ForeignKey("registry.MonitoredModel", models.PROTECT, related_name="check_runs")
    version = models.ForeignKey("registry.ModelVersion", models.PROTECT, related_name="check_runs")
    kind = models.CharField(max_length=16, choices=RunKind.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(help_text="exclusive")
    revision = models.PositiveIntegerField(default=1)
    supersedes = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    origin = models.CharField(max_length=16, choices=RunOrigin.choices, default=RunOrigin.SCHEDULE)

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.SCHEDULED)
    status_reason = models.TextField(blank=True, help_text="why skipped, failed or missed")
    late = models.BooleanField(default=False, help_text="run (or still unrun) after its deadline")
    due_at = models.DateTimeField(help_text="window end, plus label maturity for performance")
    deadline = models.DateTimeField(help_text="due time + the plan's grace")

    scheduled_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    attempt = models.PositiveIntegerField(default=0, help_text="incremented by every claim")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)

    plan = models.ForeignKey(
        "registry.MonitoringPlan", models.PROTECT, null=True, blank=True, related_name="+"
    )
    policy = models.ForeignKey(
        "registry.RetrainingPolicy", models.PROTECT, null=True, blank=True, related_name="+"
    )
    schema = models.ForeignKey(
        "registry.FeatureSchema", models.PROTECT, null=True, blank=True, related_name="+"
    )
    as_of_sequence = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="the model's ingest point (batch sequence) the window and its labels were read as of",
    )

    # What was read: enough to re-read exactly the same bytes (see ``recompute``).
    data_sha256s = models.JSONField(default=list, blank=True, help_text="production batches read")
    label_sha256s = models.JSONField(default=list, blank=True, help_text="label batches read")
    reference_sha256 = models.CharField(max_length=64, blank=True)
    reference_profile_sha256 = models.CharField(max_length=64, blank=True)
    reference_artefact_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="the reference artefact read (row-aligned subsample, holdout rows, distributions)",
    )
    n_rows = models.PositiveIntegerField(null=True, blank=True)

    # What produced it.
    code_version = models.CharField(max_length=64, blank=True)
    stats_code_version = models.CharField(max_length=64, blank=True)
    library_versions = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    seeds = models.JSONField(default=dict, blank=True)

    # Headline numbers, denormalised for listing and reports; the detail is in the result rows.
    drift_share = models.FloatField(null=True, blank=True)
    drift_detected = models.BooleanField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-window_end", "model", "kind", "-revision")
        constraints = (
            models.UniqueConstraint(
                fields=("version", "window_start", "window_end", "kind", "revision"),
                name="checks_run_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="checks_run_window_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(revision=1) | Q(supersedes__isnull=False), name="checks_run_revision_supersedes"
            ),
        )
        indexes = (
            models.Index(fields=("status", "enqueued_at"), name="checks_run_status_idx"),
            models.Index(fields=("version", "kind", "window_end"), name="checks_run_series_idx"),
        )

    def __str__(self) -> str:
        return (
            f"{self.kind} run #{self.pk} of {self.version_id} "
            f"[{self.window_start:%Y-%m-%d %H:%M}, {self.window_end:%Y-%m-%d %H:%M}) r{self.revision}"
        )


class StageRecord(models.Model):
    """One playbook stage of one run: what it found, or that it was skipped and why."""

    run = models.ForeignKey(CheckRun, models.CASCADE, related_name="stages")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=50)
    status = models.CharField(max_length=16, choices=StageStatus.choices)
    reason = models.TextField(blank=True)
    findings = models.JSONField(default=dict, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("run", "position")
        constraints = (models.UniqueConstraint(fields=("run", "name"), name="checks_stage_unique"),)

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"


class FeatureResult(models.Model):
    """One statistical test on one feature (and segment) of one run."""

    run = models.ForeignKey(CheckRun, models.CASCADE, related_name="feature_results")
    stage = models.CharField(max_length=50)
    feature = models.CharField(max_length=100)
    segment = models.CharField(max_length=200, blank=True, help_text="blank: the whole window")
    test = models.CharField(max_length=32)
    statistic = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    adjusted_p_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    effect_size = models.FloatField(null=True, blank=True)
    drifted = models.BooleanField(null=True, blank=True)
    n_reference = models.PositiveIntegerField(null=True, blank=True)
    n_window = models.PositiveIntegerField(null=True, blank=True)
    importance = models.FloatField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("run", "feature", "segment", "test")
        constraints = (
            models.UniqueConstraint(
                fields=("run", "stage", "feature", "segment", "test"), name="checks_feature_result_unique"
            ),
        )
        indexes = (models.Index(fields=("feature", "drifted"), name="checks_feature_drift_idx"),)

    def __str__(self) -> str:
        return f"{self.feature} {self.test}={self.statistic}"


class MetricResult(models.Model):
    """A named number of one run: a data-quality measure per column, a row count, a performance
    metric; ``feature`` is blank for window-level metrics."""

    run = models.ForeignKey(CheckRun, models.CASCADE, related_name="metric_results")
    stage = models.CharField(max_length=50)
    feature = models.CharField(max_length=100, blank=True)
    metric = models.CharField(max_length=50)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    flagged = models.BooleanField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("run", "stage", "feature", "metric")
        constraints = (
            models.UniqueConstraint(
                fields=("run", "stage", "feature", "metric"), name="checks_metric_result_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.feature or '-'} {self.metric}={self.value}"


class EventCorrelation(models.Model):
    """An external event that overlaps a run's window, with the findings it may explain."""

    run = models.ForeignKey(CheckRun, models.CASCADE, related_name="event_correlations")
    event = models.ForeignKey("registry.ExternalEvent", models.PROTECT, related_name="+")
    drifted_features = models.JSONField(default=list, blank=True)
    flagged_quality = models.JSONField(default=list, blank=True)
    note = models.TextField()

    class Meta:
        ordering = ("run", "event")
        constraints = (models.UniqueConstraint(fields=("run", "event"), name="checks_event_unique"),)

    def __str__(self) -> str:
        return self.note


class Severity(models.TextChoices):
    """The one severity scale (``vocabulary.findings.SEVERITIES``, whose ``severity_rank``
    orders it)."""

    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Finding(models.Model):
    """Something a check flagged, with its numbers: open until a revision of the same window no
    longer raises it.

    Its identity is (model version, window, run kind, kind, subject); among open findings it is
    unique, so a recompute or a backfill updates the open finding (numbers, the run it was last
    seen in, ``revision``) or closes it, and never opens a second one. ``numbers`` holds
    aggregates only (statistic, threshold, p-value, share ...), never a raw data value."""

    model = models.ForeignKey("registry.MonitoredModel", models.PROTECT, related_name="findings")
    version = models.ForeignKey("registry.ModelVersion", models.PROTECT, related_name="findings")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(help_text="exclusive")
    run_kind = models.CharField(max_length=16, choices=RunKind.choices)
    kind = models.CharField(max_length=64, help_text="a name from vocabulary.findings")
    subject = models.CharField(
        max_length=200, blank=True, help_text="the feature, metric or event it concerns; blank when none"
    )

    # What raised it: a check run's stage, or (later) another source with no run.
    source = models.CharField(max_length=32, default="check_run")
    run = models.ForeignKey(
        CheckRun,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        help_text="the run that first raised it",
    )
    stage = models.CharField(max_length=50, blank=True)
    last_run = models.ForeignKey(
        CheckRun,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="findings_last_seen",
        help_text="the run it was last seen in",
    )
    revision = models.PositiveIntegerField(default=1, help_text="the revision it was last seen in")

    severity = models.CharField(max_length=16, choices=Severity.choices)
    numbers = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True)
    closed_by_run = models.ForeignKey(
        CheckRun, models.PROTECT, null=True, blank=True, related_name="findings_closed"
    )

    class Meta:
        ordering = ("-window_end", "model", "kind", "subject", "-opened_at")
        constraints = (
            models.UniqueConstraint(
                fields=("model", "version", "window_start", "window_end", "run_kind", "kind", "subject"),
                condition=Q(closed_at__isnull=True),
                name="checks_finding_open_identity_unique",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(closed_reason=""),
                name="checks_finding_closed_says_why",
            ),
        )
        indexes = (
            models.Index(
                fields=("version", "run_kind", "window_start", "window_end"), name="checks_finding_series_idx"
            ),
            models.Index(fields=("kind", "severity"), name="checks_finding_kind_idx"),
        )

    def __str__(self) -> str:
        about = f" {self.subject}" if self.subject else ""
        return f"{self.kind}{about} ({self.severity}, {'open' if self.is_open else 'closed'})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
