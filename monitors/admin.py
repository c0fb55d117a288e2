"""Batches and inventory exceptions in Django's admin: read-only, scoped to the models a user may
see.

Both are written only by ``batch_ingest`` (and purged only by retention), with the ledger as the
record of every write, so nothing here adds, changes or deletes. Who sees which row comes from
``registry.admin_access``: model owners their teams' rows, model risk and auditors every row. An
inventory exception for a model nobody registered has no model, so only model risk and auditors
see it.
"""

from __future__ import annotations

from django.contrib import admin

from monitors.models import Batch, InventoryException
from registry.admin_access import ReadOnlyScopedAdmin

SHORT_SHA = 12


@admin.register(Batch)
class BatchAdmin(ReadOnlyScopedAdmin):
    model_path = "model"
    list_display = (
        "id",
        "sequence",
        "model",
        "version",
        "kind",
        "row_count",
        "source_format",
        "posted",
        "stored",
        "flagged",
        "received_at",
        "purged_at",
    )
    # a version's name includes its model's slug
    list_select_related = ("model", "version", "version__model")
    list_filter = (
        "kind",
        "source_format",
        "flagged",
        ("purged_at", admin.EmptyFieldListFilter),
        ("model__team", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("model__slug", "posted_sha256", "stored_sha256", "filename")
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-id")

    @admin.display(description="posted sha256", ordering="posted_sha256")
    def posted(self, batch: Batch) -> str:
        return batch.posted_sha256[:SHORT_SHA]

    @admin.display(description="stored sha256", ordering="stored_sha256")
    def stored(self, batch: Batch) -> str:
        return batch.stored_sha256[:SHORT_SHA]


@admin.register(InventoryException)
class InventoryExceptionAdmin(ReadOnlyScopedAdmin):
    # ``model`` is null for a model nobody registered: ``visible_rows`` leaves those rows to the
    # roles that see everything, because a team filter never matches a null
    model_path = "model"
    list_display = (
        "id",
        "kind",
        "outcome",
        "model_slug",
        "version_label",
        "row_count",
        "sender_name",
        "created_at",
        "resolved_at",
    )
    list_filter = (
        "kind",
        "outcome",
        ("resolved_at", admin.EmptyFieldListFilter),
        ("model__team", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("model_slug", "version_label", "sender_name", "posted_sha256")
    date_hierarchy = "created_at"
