"""The data plane: batches of reference, production and label data, the record ids that make
them unique per model, labels waiting for or joined to their records, reference profiles and
artefacts (with the state fitted from them), and the inventory exceptions that reconciliation lists.

The rows hold hashes, counts and where a file is stored; the data itself is Parquet in the
``batches`` storage, and is what retention purges. A batch row exists only once its file is
durably stored; a stored file never changes (its name is its content's sha256).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from registry.models import FeatureSchema, ModelVersion, MonitoredModel


class BatchKind(models.TextChoices):
    REFERENCE = "reference", "Reference"
    PRODUCTION = "production", "Production"
    LABELS = "labels", "Labels"


class Batch(models.Model):
    model = models.ForeignKey(MonitoredModel, models.PROTECT, related_name="batches")
    kind = models.CharField(max_length=16, choices=BatchKind.choices)
    version = models.ForeignKey(
        ModelVersion,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the model version a reference batch belongs to",
    )
    sequence = models.PositiveBigIntegerField(
        help_text="order of ingestion within the model; 'as of' points name one"
    )
    schema = models.ForeignKey(
        FeatureSchema,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the schema the batch was validated against",
    )
    schema_versions = models.JSONField(
        default=dict, blank=True, help_text="version label -> schema number, per version in the batch"
    )

    posted_sha256 = models.CharField(max_length=64, help_text="sha256 of the bytes as posted")
    posted_bytes = models.PositiveBigIntegerField()
    source_format = models.CharField(max_length=8)
    filename = models.CharField(max_length=255, blank=True)
    stored_sha256 = models.CharField(max_length=64, help_text="sha256 of the stored Parquet")
    stored_bytes = models.PositiveBigIntegerField()
    storage_name = models.CharField(max_length=255)

    row_count = models.PositiveBigIntegerField()
    min_timestamp = models.DateTimeField(null=True, blank=True)
    max_timestamp = models.DateTimeField(null=True, blank=True)
    quality_summary = models.JSONField(default=dict, blank=True)
    label_summary = models.JSONField(
        default=dict, blank=True, help_text="labels: joined, parked and corrections at ingest"
    )
    flagged = models.BooleanField(default=False, help_text="accepted with rows of unknown versions")

    sender_kind = models.CharField(max_length=16)
    sender_id = models.CharField(max_length=100)
    sender_name = models.CharField(max_length=150)
    received_at = models.DateTimeField()

    purged_at = models.DateTimeField(null=True, blank=True)
    purge_ledger_sequence = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("model", "sequence")
        verbose_name_plural = "batches"
        constraints = (
            models.UniqueConstraint(fields=("model", "sequence"), name="monitors_batch_sequence_unique"),
            models.UniqueConstraint(
                fields=("model", "kind", "version", "posted_sha256"),
                condition=Q(purged_at__isnull=True),
                nulls_distinct=False,
                name="monitors_batch_posted_unique",
            ),
            models.UniqueConstraint(
                fields=("version",),
                condition=Q(kind="reference", purged_at__isnull=True),
                name="monitors_one_reference_per_version",
            ),
        )
        indexes = (
            models.Index(
                fields=("model", "kind", "min_timestamp", "max_timestamp"), name="monitors_batch_window_idx"
            ),
            models.Index(fields=("stored_sha256",), name="monitors_batch_stored_idx"),
        )

    def __str__(self) -> str:
        return f"{self.kind} batch #{self.sequence} of {self.model_id}"


class RecordId(models.Model):
    """One production record: unique per model across all batches, so two uploads of the same
    record cannot both pass, even at the same moment. Loaded with COPY."""

    # No single-column indexes on the foreign keys: the composite indexes lead with them, and a
    # lone model_id index tempts the planner into per-row bitmap scans right after a bulk load,
    # before autovacuum has analysed the table.
    model = models.ForeignKey(MonitoredModel, models.PROTECT, related_name="+", db_index=False)
    record_id = models.CharField(max_length=200)
    batch = models.ForeignKey(Batch, models.CASCADE, related_name="record_ids", db_index=False)
    timestamp = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("model", "record_id"), name="monitors_record_id_unique"),
        )
        indexes = (models.Index(fields=("batch", "timestamp"), name="monitors_record_batch_ts_idx"),)

    def __str__(self) -> str:
        return self.record_id


class Label(models.Model):
    """One label as it arrived. The value stays in the label batch's Parquet (``row_index``);
    a later label for the same record supersedes this one from ``superseded_at_sequence`` on,
    and both stay on record. Once its record has arrived (through ``RecordId``), the record's
    batch and timestamp are copied here, so a window finds its labels without a join."""

    model = models.ForeignKey(MonitoredModel, models.PROTECT, related_name="+", db_index=False)
    batch = models.ForeignKey(Batch, models.CASCADE, related_name="labels", db_index=False)
    sequence = models.PositiveBigIntegerField(help_text="the label batch's sequence")
    record_id = models.CharField(max_length=200)
    row_index = models.PositiveIntegerField(help_text="0-based row in the label batch's Parquet")
    labelled_at = models.DateTimeField()
    record_batch = models.ForeignKey(
        Batch,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="the production batch of the record, once it has arrived",
    )
    record_timestamp = models.DateTimeField(null=True, blank=True)
    parked_until = models.DateTimeField(
        null=True, blank=True, help_text="set while the record has not arrived"
    )
    orphaned_at = models.DateTimeField(null=True, blank=True)
    superseded_at_sequence = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("batch", "record_id"), name="monitors_label_once_per_batch"),
        )
        indexes = (
            models.Index(fields=("model", "record_id"), name="monitors_label_record_idx"),
            models.Index(fields=("model", "parked_until"), name="monitors_label_parked_idx"),
            models.Index(fields=("record_batch", "record_timestamp"), name="monitors_label_window_idx"),
        )

    def __str__(self) -> str:
        return f"label for {self.record_id} in batch {self.batch_id}"


class ReferenceProfile(models.Model):
    """Where the statistics engine's profile of a reference batch is stored, and its sha256; one
    per (reference Parquet, schema version, profile code version).

    The profile itself is the engine's ``monitors.stats.ReferenceProfile``. Modules that need
    both import this row as ``ReferenceProfile`` and the engine's class as ``EngineProfile``. The
    class keeps its name because the name is on record: the ledger files each
    ``monitors.profile.built`` entry under subject type ``monitors.referenceprofile``."""

    batch = models.ForeignKey(Batch, models.PROTECT, related_name="profiles")
    reference_sha256 = models.CharField(max_length=64)
    schema = models.ForeignKey(FeatureSchema, models.PROTECT, related_name="+")
    code_version = models.CharField(max_length=32)
    storage_name = models.CharField(max_length=255)
    profile_sha256 = models.CharField(max_length=64)
    profile_bytes = models.PositiveBigIntegerField()
    holds_raw_values = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("reference_sha256", "schema", "code_version"), name="monitors_profile_key_unique"
            ),
        )

    def __str__(self) -> str:
        return f"profile of {self.reference_sha256[:12]} (schema {self.schema_id}, code {self.code_version})"


class ReferenceArtefact(models.Model):
    """Where the reference artefact of a reference batch is stored, and its sha256; one per
    (reference Parquet, schema version, artefact code version).

    The artefact is the engine's ``monitors.stats.reference_artefact.ReferenceArtefact``: a
    seeded, row-aligned subsample, the outcome distributions and every holdout row's target,
    prediction and scores. It always holds raw values, so it is purged with its reference."""

    batch = models.ForeignKey(Batch, models.PROTECT, related_name="artefacts")
    reference_sha256 = models.CharField(max_length=64)
    schema = models.ForeignKey(FeatureSchema, models.PROTECT, related_name="+")
    code_version = models.CharField(max_length=32)
    settings = models.JSONField(
        default=dict, blank=True, help_text="subsample rows, holdout cap and seed it was built with"
    )
    storage_name = models.CharField(max_length=255)
    artefact_sha256 = models.CharField(max_length=64)
    artefact_bytes = models.PositiveBigIntegerField()
    holdout_rows = models.PositiveBigIntegerField(help_text="holdout rows in the reference")
    holdout_sampled = models.BooleanField(help_text="over the holdout cap: a seeded sample is kept")
    created_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("reference_sha256", "schema", "code_version"), name="monitors_artefact_key_unique"
            ),
        )
        indexes = (models.Index(fields=("artefact_sha256",), name="monitors_artefact_sha_idx"),)

    def __str__(self) -> str:
        return f"artefact of {self.reference_sha256[:12]} (schema {self.schema_id}, code {self.code_version})"


class FittedState(models.Model):
    """A fitted thing (scaler, encoder, calibrator, PCA) computed from one reference artefact,
    stored as parameters (npz + JSON, no pickle) once per (artefact sha256, fitter, version), so
    that it is fitted once per reference and never per night. Purged with its artefact."""

    artefact = models.ForeignKey(ReferenceArtefact, models.PROTECT, related_name="fitted_states")
    artefact_sha256 = models.CharField(max_length=64)
    fitter = models.CharField(max_length=100)
    fitter_version = models.CharField(max_length=32)
    storage_name = models.CharField(max_length=255)
    state_sha256 = models.CharField(max_length=64)
    state_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("artefact_sha256", "fitter", "fitter_version"), name="monitors_fitted_key_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.fitter} v{self.fitter_version} of artefact {self.artefact_sha256[:12]}"


class IngestLimits(models.Model):
    """A model's own ingestion limits; without a row, the settings' defaults apply."""

    model = models.OneToOneField(MonitoredModel, models.CASCADE, related_name="ingest_limits")
    max_rows = models.PositiveBigIntegerField(null=True, blank=True)
    max_bytes = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "ingest limits"

    def __str__(self) -> str:
        return f"limits for {self.model_id}"


class InventoryException(models.Model):
    """Data that does not match the inventory: a model nobody registered, or rows labelled with
    a version that was not the champion or a challenger when they were scored."""

    class Kind(models.TextChoices):
        UNREGISTERED_MODEL = "unregistered_model", "Unregistered model"
        UNKNOWN_VERSION = "unknown_version", "Version not in production or challenger"

    class Outcome(models.TextChoices):
        REFUSED = "refused", "Batch refused"
        FLAGGED = "flagged", "Batch accepted and flagged"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    model = models.ForeignKey(MonitoredModel, models.PROTECT, null=True, blank=True, related_name="+")
    model_slug = models.CharField(max_length=100)
    version_label = models.CharField(max_length=64, blank=True)
    batch = models.ForeignKey(Batch, models.PROTECT, null=True, blank=True, related_name="+")
    posted_sha256 = models.CharField(max_length=64)
    row_count = models.PositiveBigIntegerField(default=0)
    first_rows = models.JSONField(default=list, blank=True)
    sender_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.model_slug} {self.version_label}".strip()
