"""Orphans: stored files no batch, profile, artefact or fitted-state row points at, and labels
whose record never came.

A file without a row is what a crash between the durable write and the commit leaves behind
(or a purge that stopped half-way). It is removed once older than the grace period, which must
exceed the longest ingest; the removal re-checks under the model's lock, the same lock an
ingest holds from before it writes until it commits, so a file about to be committed is never
taken. A parked label becomes an orphan when its parking time runs out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from audit.ledger import record
from monitors.locks import model_lock
from monitors.models import Batch, FittedState, Label, ReferenceArtefact, ReferenceProfile
from monitors.storage import DATA_PREFIXES, delete_stored, stored_age, walk_stored
from registry.models import MonitoredModel
from vocabulary import ledger_actions


@dataclass(frozen=True)
class SweepReport:
    deleted: tuple[str, ...]
    kept_young: tuple[str, ...]
    labels_orphaned: dict[str, int]


# Every row kind that points at a stored file; a file is live while an unpurged row names it.
_STORED_ROWS = (Batch, ReferenceProfile, ReferenceArtefact, FittedState)


def stored_name_in_use(name: str) -> bool:
    return any(
        kind.objects.filter(storage_name=name, purged_at__isnull=True).exists() for kind in _STORED_ROWS
    )


def _model_of(name: str) -> MonitoredModel | None:
    parts = name.split("/")
    if len(parts) < 3:
        return None
    try:
        uid = uuid.UUID(parts[1])
    except ValueError:
        return None  # not a name this module writes
    return MonitoredModel.objects.filter(uid=uid).first()


def orphan_files_sweep(
    *, grace: timedelta | None = None, now: datetime | None = None, dry_run: bool = False
) -> tuple[list[str], list[str]]:
    """Delete unreferenced stored files older than ``grace``; returns (deleted, kept as too young)."""
    grace = grace if grace is not None else timedelta(hours=settings.FLEETWATCH_ORPHAN_GRACE_HOURS)
    now = now or timezone.now()
    live = {
        name
        for kind in _STORED_ROWS
        for name in kind.objects.filter(purged_at__isnull=True).values_list("storage_name", flat=True)
    }
    deleted: list[str] = []
    young: list[str] = []
    for prefix in DATA_PREFIXES:
        for name in list(walk_stored(prefix)):
            if name in live:
                continue
            if stored_age(name, now=now) < grace:
                young.append(name)
                continue
            if dry_run:
                deleted.append(name)
                continue
            model = _model_of(name)
            with transaction.atomic():
                if model is not None:
                    model_lock(model)
                if stored_name_in_use(name):
                    continue
                delete_stored(name)
            deleted.append(name)
    if deleted and not dry_run:
        record(
            action=ledger_actions.MONITORS_STORAGE_ORPHANS_SWEPT,
            payload={"files": deleted, "grace_seconds": int(grace.total_seconds())},
        )
    return deleted, young


def labels_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Mark parked labels whose time ran out as orphans; one ledger entry per model."""
    now = now or timezone.now()
    expired = Label.objects.filter(record_batch__isnull=True, parked_until__lte=now, orphaned_at__isnull=True)
    per_model: dict[int, list[int]] = defaultdict(list)
    for model_id, batch_id in expired.values_list("model_id", "batch_id").distinct():
        per_model[model_id].append(batch_id)
    counts: dict[str, int] = {}
    for model_id, batch_ids in per_model.items():
        model = MonitoredModel.objects.get(pk=model_id)
        with transaction.atomic():
            n = expired.filter(model_id=model_id).update(orphaned_at=now)
            if not n:
                continue
            record(
                action=ledger_actions.MONITORS_LABELS_ORPHANED,
                subject=model,
                payload={"model": model.slug, "labels": n, "label_batches": sorted(set(batch_ids))},
            )
        counts[model.slug] = n
    return counts


def orphan_labels(model: MonitoredModel) -> dict[int, int]:
    """Orphaned labels of the model, counted per label batch."""
    rows = (
        Label.objects.filter(model=model, orphaned_at__isnull=False)
        .values("batch_id")
        .annotate(n=Count("pk"))
        .order_by("batch_id")
    )
    return {r["batch_id"]: r["n"] for r in rows}


def sweep(
    *, grace: timedelta | None = None, now: datetime | None = None, dry_run: bool = False
) -> SweepReport:
    deleted, young = orphan_files_sweep(grace=grace, now=now, dry_run=dry_run)
    labels = {} if dry_run else labels_expire(now=now)
    return SweepReport(tuple(deleted), tuple(young), labels)
