"""``batch_ingest``: the one way a batch enters Fleetwatch, for the API and the command line.

1. Spool the posted bytes to a temp file, hashing them (sha256 as posted). Bytes already
   ingested for this model return the existing batch.
2. Validate structurally while writing the Parquet that will be stored (sha256 as stored).
   The first structural problem refuses the batch whole; nothing has been stored yet.
3. In one transaction, under the model's ingest lock: insert the batch row and its record ids
   (or labels), store the Parquet durably, record the ledger entry, commit. The batch becomes
   visible only with a durable file; a crash before the commit leaves at most a file without a
   row, which the orphan sweep removes after its grace period.

Every outcome, accepted or refused, is in the ledger with both hashes, row counts and the
sender — the rule, column and row numbers of a refusal, never a data value.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.ledger import record
from audit.ledger.context import Actor, ledger_scope
from monitors.ingest.errors import IngestRefusal, Rule
from monitors.ingest.formats import Spooled, detect_format, open_source, spool
from monitors.ingest.records import labels_load, parked_labels_join, record_ids_load
from monitors.ingest.validate import ServingWindow, Validated, validate_batch
from monitors.locks import model_lock
from monitors.models import Batch, BatchKind, IngestLimits, InventoryException
from monitors.schemas import (
    BatchLayout,
    SchemaConflict,
    labels_layout,
    model_schema,
    production_layout,
    reference_layout,
    version_column,
)
from monitors.storage import batch_name, delete_stored, store_file
from registry.models import FeatureSchema, LifecycleStatus, ModelVersion, MonitoredModel, VersionRole
from registry.selectors import champion, schema_current_or_none
from vocabulary import ledger_actions

logger = logging.getLogger(__name__)

# Called with the stored name once the batch's file is durable and before the transaction commits:
# the one point where a crash leaves a file without a row (which the orphan sweep then removes).
# Empty in production; the crash and concurrency tests install a pause here, in the child process
# they start (tests/support/ingest_process.py), to kill or release an ingest at that point.
BEFORE_COMMIT_HOOKS: list[Callable[[str], None]] = []


@dataclass(frozen=True)
class IngestResult:
    batch: Batch
    created: bool  # False when the same bytes had been ingested before


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_bytes: int


@dataclass
class _Attempt:
    """What is known about a post so far, for the refusal's ledger entry."""

    model: MonitoredModel | None
    model_slug: str
    kind: str
    sender: Actor
    posted: Spooled | None = None
    fmt: str | None = None
    row_count: int | None = None
    version_label: str | None = None


def batch_ingest(
    *,
    model: MonitoredModel | str,
    kind: str,
    source: str | Path | IO[bytes],
    sender: Actor,
    filename: str = "",
    content_type: str = "",
    version: ModelVersion | str | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Validate, store and register one batch; raise ``IngestRefusal`` if it is refused."""
    now = now or timezone.now()
    with ledger_scope(actor=sender):
        attempt = _Attempt(
            model=model if isinstance(model, MonitoredModel) else None,
            model_slug=model.slug if isinstance(model, MonitoredModel) else str(model),
            kind=kind,
            sender=sender,
        )
        with tempfile.TemporaryDirectory(prefix="fleetwatch-ingest-") as tmp:
            try:
                result = _ingest(
                    attempt,
                    source=source,
                    filename=filename,
                    content_type=content_type,
                    version=version,
                    now=now,
                    workdir=Path(tmp),
                )
            except IngestRefusal as refusal:
                _record_refusal(attempt, refusal)
                raise
        if result.created and result.batch.kind == BatchKind.REFERENCE:
            _profile_after_registration(result.batch)
    return result


def _ingest(
    attempt: _Attempt,
    *,
    source: str | Path | IO[bytes],
    filename: str,
    content_type: str,
    version: ModelVersion | str | None,
    now: datetime,
    workdir: Path,
) -> IngestResult:
    if attempt.kind not in BatchKind.values:
        raise IngestRefusal(
            Rule.INVALID_REQUEST, f"kind {attempt.kind!r} is not one of {', '.join(BatchKind.values)}"
        )
    model = attempt.model or MonitoredModel.objects.filter(slug=attempt.model_slug).first()
    limits = _limits(model)
    attempt.posted = spool(source, workdir, max_bytes=limits.max_bytes)
    if model is None:
        raise IngestRefusal(
            Rule.UNREGISTERED_MODEL,
            f"model {attempt.model_slug!r} is not registered: register it before posting its data",
        )
    attempt.model = model
    model_version = _reference_version(model, version) if attempt.kind == BatchKind.REFERENCE else None
    attempt.version_label = model_version.label if model_version else None

    existing = _existing(model, attempt.kind, model_version, attempt.posted.sha256)
    if existing is not None:
        _record_repost(existing)
        return IngestResult(existing, created=False)

    attempt.fmt = detect_format(attempt.posted.path, filename=filename, content_type=content_type)
    layout, serving = _layout(model, attempt.kind, model_version, attempt.posted, attempt.fmt)
    tolerance = timedelta(seconds=settings.FLEETWATCH_INGEST_FUTURE_TOLERANCE_SECONDS)
    validated = validate_batch(
        posted=attempt.posted.path,
        fmt=attempt.fmt,
        layout=layout,
        kind=attempt.kind,
        output=workdir / "stored.parquet",
        max_rows=limits.max_rows,
        now=now,
        future_limit=now + tolerance,
        serving=serving,
    )
    attempt.row_count = validated.row_count
    flagged = bool(validated.unknown_versions)
    if flagged and settings.FLEETWATCH_UNKNOWN_VERSION_POLICY == "refuse":
        raise _unknown_version_refusal(validated, layout)

    return _commit(
        model=model,
        kind=attempt.kind,
        version=model_version,
        layout=layout,
        posted=attempt.posted,
        fmt=attempt.fmt,
        filename=filename,
        validated=validated,
        sender=attempt.sender,
        now=now,
    )


def _limits(model: MonitoredModel | None) -> Limits:
    own = IngestLimits.objects.filter(model=model).first() if model is not None else None
    return Limits(
        max_rows=(own.max_rows if own and own.max_rows else settings.FLEETWATCH_INGEST_MAX_ROWS),
        max_bytes=(own.max_bytes if own and own.max_bytes else settings.FLEETWATCH_INGEST_MAX_BYTES),
    )


def _reference_version(model: MonitoredModel, version: ModelVersion | str | None) -> ModelVersion:
    if version is None:
        raise IngestRefusal(
            Rule.INVALID_REQUEST,
            "a reference batch belongs to a model version: name it "
            "(`version` parameter, `--model-version` option)",
        )
    if isinstance(version, ModelVersion):
        if version.model_id != model.pk:
            raise IngestRefusal(
                Rule.INVALID_REQUEST, f"version {version.label} is not a version of {model.slug}"
            )
        return version
    found = model.versions.filter(label=version).first()
    if found is None:
        raise IngestRefusal(Rule.UNKNOWN_VERSION, f"model {model.slug} has no version {version!r}")
    return found


def _existing(
    model: MonitoredModel, kind: str, version: ModelVersion | None, posted_sha256: str
) -> Batch | None:
    return Batch.objects.filter(
        model=model, kind=kind, version=version, posted_sha256=posted_sha256, purged_at__isnull=True
    ).first()


def _layout(
    model: MonitoredModel, kind: str, version: ModelVersion | None, posted: Spooled, fmt: str
) -> tuple[BatchLayout, dict[str, ServingWindow] | None]:
    if kind == BatchKind.REFERENCE:
        assert version is not None
        schema = schema_current_or_none(version)
        if schema is None:
            raise IngestRefusal(
                Rule.NO_SCHEMA,
                f"version {version.label} of {model.slug} has no feature schema; "
                f"register one before its reference data",
            )
        return reference_layout(model, version, schema), None
    if kind == BatchKind.LABELS:
        schema = model_schema(model)
        if schema is None or not schema.target_column:
            raise IngestRefusal(
                Rule.NO_SCHEMA,
                f"model {model.slug} has no schema naming a target column; labels cannot be read",
            )
        return labels_layout(model, schema), None
    return _production_layout(model, posted, fmt)


def _production_layout(
    model: MonitoredModel, posted: Spooled, fmt: str
) -> tuple[BatchLayout, dict[str, ServingWindow]]:
    labels = _version_labels(posted, fmt)
    versions = {v.label: v for v in model.versions.filter(label__in=labels)}
    serving = {label: _serving_window(v) for label, v in versions.items()}
    schemas: dict[str, FeatureSchema] = {}
    for label, window in serving.items():
        if window.start_ns is None:
            continue
        schema = schema_current_or_none(versions[label])
        if schema is None:
            raise IngestRefusal(
                Rule.NO_SCHEMA,
                f"version {label} of {model.slug} has no feature schema",
                column=version_column(),
            )
        schemas[label] = schema
    if not schemas:
        fallback = champion(model)
        schema = schema_current_or_none(fallback) if fallback is not None else model_schema(model)
        if schema is None:
            raise IngestRefusal(Rule.NO_SCHEMA, f"model {model.slug} has no feature schema")
        schemas[schema.version.label] = schema
    try:
        return production_layout(model, schemas), serving
    except SchemaConflict as conflict:
        raise IngestRefusal(
            Rule.SCHEMA_CONFLICT,
            f"column `{conflict.column}` is declared differently by version {conflict.version_label} than by "
            f"the other versions in this batch: post each version's rows separately",
            column=conflict.column,
        ) from None


def _version_labels(posted: Spooled, fmt: str) -> list[str]:
    """A first, cheap pass over the version column alone: which versions' schemas apply."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = version_column()
    source = open_source(posted.path, fmt, columns=[column])
    if column not in source.names:
        return []  # the full pass reports the missing column
    labels: set[str] = set()
    for chunk in source.batches:
        values = chunk.column(column)
        if not pa.types.is_string(values.type):
            values = values.cast(pa.string())
        labels.update(v for v in pc.unique(values).to_pylist() if v)
    return sorted(labels)


def _serving_window(version: ModelVersion) -> ServingWindow:
    """When the version was the champion or a challenger, from deployed_at to retired_at."""
    serving_now = version.status in (
        LifecycleStatus.PRODUCTION,
        LifecycleStatus.RESTRICTED,
    ) and version.role in (VersionRole.CHAMPION, VersionRole.CHALLENGER)
    served = serving_now or (version.status == LifecycleStatus.RETIRED and version.retired_at is not None)
    if version.deployed_at is None or not served:
        return ServingWindow(version.label, None, None)
    end = _ns(version.retired_at) if version.retired_at is not None else None
    return ServingWindow(version.label, _ns(version.deployed_at), end)


def _ns(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def _unknown_version_refusal(validated: Validated, layout: BatchLayout) -> IngestRefusal:
    label, rows = next(iter(validated.unknown_versions.items()))
    total = sum(r.count for r in validated.unknown_versions.values())
    labels = ", ".join(sorted(validated.unknown_versions))
    refusal = IngestRefusal(
        Rule.UNKNOWN_VERSION,
        f"column `{layout.version}`: {total} rows name a version that was not the "
        f"production champion or a challenger at the row's timestamp ({labels}), e.g. {label!r} at row "
        f"{rows.first_rows[0]}",
        column=layout.version,
        rows=rows.first_rows,
        count=total,
    )
    refusal.unknown_versions = validated.unknown_versions  # type: ignore[attr-defined]
    return refusal


def _commit(
    *,
    model: MonitoredModel,
    kind: str,
    version: ModelVersion | None,
    layout: BatchLayout,
    posted: Spooled,
    fmt: str,
    filename: str,
    validated: Validated,
    sender: Actor,
    now: datetime,
) -> IngestResult:
    name = batch_name(model_uid=model.uid, kind=kind, sha256=validated.sha256)
    stored_new = False
    try:
        with transaction.atomic():
            model_lock(model)
            existing = _existing(model, kind, version, posted.sha256)
            if existing is not None:  # the same bytes, posted at the same moment, won
                _record_repost(existing)
                return IngestResult(existing, created=False)
            if (
                kind == BatchKind.REFERENCE
                and Batch.objects.filter(kind=kind, version=version, purged_at__isnull=True).exists()
            ):
                raise IngestRefusal(
                    Rule.REFERENCE_EXISTS,
                    f"version {version.label} of {model.slug} already has its reference "  # type: ignore[union-attr]
                    f"batch; a version's reference is registered once",
                )
            sequence = (Batch.objects.filter(model=model).aggregate(m=Max("sequence"))["m"] or 0) + 1
            schema = _primary_schema(layout, validated)
            batch = Batch.objects.create(
                model=model,
                kind=kind,
                version=version,
                sequence=sequence,
                schema=schema,
                schema_versions={label: s.number for label, s in layout.schemas.items()},
                posted_sha256=posted.sha256,
                posted_bytes=posted.size,
                source_format=fmt,
                filename=filename[:255],
                stored_sha256=validated.sha256,
                stored_bytes=validated.size,
                storage_name=name,
                row_count=validated.row_count,
                min_timestamp=validated.min_timestamp,
                max_timestamp=validated.max_timestamp,
                quality_summary=validated.quality,
                flagged=bool(validated.unknown_versions),
                sender_kind=sender.kind,
                sender_id=sender.id,
                sender_name=sender.name,
                received_at=timezone.now(),
            )
            if kind == BatchKind.PRODUCTION:
                assert validated.record_ids is not None and validated.timestamps is not None
                record_ids_load(batch, validated.record_ids, validated.timestamps)
                joined = parked_labels_join(batch, now=now)
                if joined:
                    batch.label_summary = {"parked_labels_joined": joined}
                    batch.save(update_fields=["label_summary"])
            elif kind == BatchKind.LABELS:
                assert validated.record_ids is not None and validated.timestamps is not None
                batch.label_summary = labels_load(
                    batch,
                    validated.record_ids,
                    validated.timestamps,
                    now=now,
                    park_hours=settings.FLEETWATCH_LABEL_PARK_HOURS,
                )
                batch.save(update_fields=["label_summary"])
            stored_new = store_file(name, validated.path)
            for hook in BEFORE_COMMIT_HOOKS:
                hook(name)
            for label, rows in validated.unknown_versions.items():
                InventoryException.objects.create(
                    kind=InventoryException.Kind.UNKNOWN_VERSION,
                    outcome=InventoryException.Outcome.FLAGGED,
                    model=model,
                    model_slug=model.slug,
                    version_label=label,
                    batch=batch,
                    posted_sha256=posted.sha256,
                    row_count=rows.count,
                    first_rows=rows.first_rows,
                    sender_name=sender.name,
                )
            record(
                action=ledger_actions.MONITORS_BATCH_ACCEPTED,
                subject=batch,
                payload=_accepted_payload(batch),
                actor=sender,
            )
    except BaseException:
        if stored_new and not Batch.objects.filter(storage_name=name, purged_at__isnull=True).exists():
            delete_stored(name)
        raise
    return IngestResult(batch, created=True)


def _primary_schema(layout: BatchLayout, validated: Validated) -> FeatureSchema | None:
    if not layout.schemas:
        return None
    if len(layout.schemas) == 1:
        return next(iter(layout.schemas.values()))
    busiest = max(layout.schemas, key=lambda label: validated.versions.get(label, 0))
    return layout.schemas[busiest]


def _accepted_payload(batch: Batch) -> dict[str, Any]:
    return {
        "model": batch.model.slug,
        "kind": batch.kind,
        "batch": batch.pk,
        "sequence": batch.sequence,
        "version": batch.version.label if batch.version_id else None,
        "posted_sha256": batch.posted_sha256,
        "stored_sha256": batch.stored_sha256,
        "posted_bytes": batch.posted_bytes,
        "stored_bytes": batch.stored_bytes,
        "row_count": batch.row_count,
        "format": batch.source_format,
        "schema_versions": batch.schema_versions,
        "min_timestamp": batch.min_timestamp.isoformat() if batch.min_timestamp else None,
        "max_timestamp": batch.max_timestamp.isoformat() if batch.max_timestamp else None,
        "flagged": batch.flagged,
        "quality": batch.quality_summary,
        "labels": batch.label_summary,
    }


def _record_repost(batch: Batch) -> None:
    record(
        action=ledger_actions.MONITORS_BATCH_REPOSTED,
        subject=batch,
        payload={
            "model": batch.model.slug,
            "kind": batch.kind,
            "batch": batch.pk,
            "posted_sha256": batch.posted_sha256,
            "stored_sha256": batch.stored_sha256,
            "row_count": batch.row_count,
        },
    )


def _record_refusal(attempt: _Attempt, refusal: IngestRefusal) -> None:
    posted = attempt.posted
    payload = {
        "model": attempt.model_slug,
        "kind": attempt.kind,
        "version": attempt.version_label,
        "posted_sha256": posted.sha256 if posted else None,
        "posted_bytes": posted.size if posted else None,
        "stored_sha256": None,
        "row_count": attempt.row_count,
        "format": attempt.fmt,
        **refusal.ledger_fields(),
    }
    subject: Any = (
        attempt.model if attempt.model is not None else ("registry.monitoredmodel", attempt.model_slug)
    )
    unknown = getattr(refusal, "unknown_versions", {})
    with transaction.atomic():
        if refusal.rule == Rule.UNREGISTERED_MODEL:
            InventoryException.objects.create(
                kind=InventoryException.Kind.UNREGISTERED_MODEL,
                outcome=InventoryException.Outcome.REFUSED,
                model_slug=attempt.model_slug[:100],
                posted_sha256=posted.sha256 if posted else "",
                sender_name=attempt.sender.name,
            )
        for label, rows in unknown.items():
            InventoryException.objects.create(
                kind=InventoryException.Kind.UNKNOWN_VERSION,
                outcome=InventoryException.Outcome.REFUSED,
                model=attempt.model,
                model_slug=attempt.model_slug,
                version_label=label[:64],
                posted_sha256=posted.sha256 if posted else "",
                row_count=rows.count,
                first_rows=rows.first_rows,
                sender_name=attempt.sender.name,
            )
        record(
            action=ledger_actions.MONITORS_BATCH_REFUSED,
            subject=subject,
            payload=payload,
            actor=attempt.sender,
        )


def _profile_after_registration(batch: Batch) -> None:
    from monitors.artefacts import artefact_roles, reference_artefact_for_version
    from monitors.profiles import (
        reference_and_schema,
        reference_profile_for,
        reference_profile_names,
        reference_table,
    )

    version: ModelVersion = batch.version  # type: ignore[assignment]
    table = None
    try:
        reference, schema = reference_and_schema(version)
        # One read of the Parquet serves both builds.
        table = reference_table(reference, [*reference_profile_names(schema), *artefact_roles(schema).all])
        reference_profile_for(version, table=table)
    except Exception:
        # The batch is in; the profile is rebuilt on first use by reference_profile_for.
        logger.exception("reference profile for batch %s could not be built", batch.pk)
    try:
        reference_artefact_for_version(version, table=table)
    except Exception:
        # Likewise: built on the first run that asks for it, or by build_reference_artefacts.
        logger.exception("reference artefact for batch %s could not be built", batch.pk)
