"""How batches and inventory exceptions look over the API (and in the ingest command's output)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monitors.models import Batch, InventoryException


def batch_summary(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "model": batch.model.slug,
        "kind": batch.kind,
        "sequence": batch.sequence,
        "version": batch.version.label if batch.version_id else None,
        "schema_versions": batch.schema_versions,
        "posted_sha256": batch.posted_sha256,
        "stored_sha256": batch.stored_sha256,
        "posted_bytes": batch.posted_bytes,
        "stored_bytes": batch.stored_bytes,
        "format": batch.source_format,
        "row_count": batch.row_count,
        "min_timestamp": batch.min_timestamp.isoformat() if batch.min_timestamp else None,
        "max_timestamp": batch.max_timestamp.isoformat() if batch.max_timestamp else None,
        "quality_summary": batch.quality_summary,
        "label_summary": batch.label_summary,
        "flagged": batch.flagged,
        "sender": batch.sender_name,
        "received_at": batch.received_at.isoformat(),
        "purged_at": batch.purged_at.isoformat() if batch.purged_at else None,
    }


class BatchSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The shape of ``batch_summary``, for the OpenAPI schema."""

    id = serializers.IntegerField()
    model = serializers.CharField()
    kind = serializers.CharField()
    sequence = serializers.IntegerField()
    version = serializers.CharField(allow_null=True)
    schema_versions = serializers.DictField()
    posted_sha256 = serializers.CharField()
    stored_sha256 = serializers.CharField()
    posted_bytes = serializers.IntegerField()
    stored_bytes = serializers.IntegerField()
    format = serializers.CharField()
    row_count = serializers.IntegerField()
    min_timestamp = serializers.DateTimeField(allow_null=True)
    max_timestamp = serializers.DateTimeField(allow_null=True)
    quality_summary = serializers.DictField()
    label_summary = serializers.DictField()
    flagged = serializers.BooleanField()
    sender = serializers.CharField()
    received_at = serializers.DateTimeField()
    purged_at = serializers.DateTimeField(allow_null=True)
    created = serializers.BooleanField(required=False)


class RefusalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rule = serializers.CharField()
    column = serializers.CharField(allow_null=True)
    rows = serializers.ListField(child=serializers.IntegerField())
    count = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class RefusedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    error = RefusalSerializer()


class InventoryExceptionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = InventoryException
        fields = (
            "id",
            "kind",
            "outcome",
            "model_slug",
            "version_label",
            "batch",
            "posted_sha256",
            "row_count",
            "first_rows",
            "sender_name",
            "created_at",
            "resolved_at",
        )
