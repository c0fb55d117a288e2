"""Retention: after a model's retention period its raw data may go; what it proved stays.

Purged: the stored Parquet of production and label batches older than the period, references
of versions retired longer than the period, the reference profiles that hold raw values (sorted
columns, category labels), the reference artefacts of purged references (subsample and holdout
rows, always raw) with every state fitted from them, and the record-id and label rows of purged
batches. Kept: every batch
row with both hashes and its counts, profiles without raw values, check results, the ledger.
A model under legal hold is never purged. Each purge is one ledger entry per model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.ledger import record
from monitors.locks import model_lock
from monitors.models import (
    Batch,
    BatchKind,
    FittedState,
    Label,
    RecordId,
    ReferenceArtefact,
    ReferenceProfile,
)
from monitors.orphans import stored_name_in_use
from monitors.storage import delete_stored
from registry.models import LifecycleStatus, MonitoredModel
from vocabulary import ledger_actions


@dataclass(frozen=True)
class PurgeReport:
    model: str
    cutoff: datetime
    batch_ids: tuple[int, ...]
    profile_ids: tuple[int, ...]
    files_deleted: int
    ledger_sequence: int | None
    held: bool = False
    artefact_ids: tuple[int, ...] = ()


def purgeable_batches(model: MonitoredModel, cutoff: datetime) -> list[Batch]:
    live = Batch.objects.filter(model=model, purged_at__isnull=True)
    return list(
        live.filter(
            Q(kind=BatchKind.PRODUCTION, max_timestamp__lt=cutoff)
            | Q(kind=BatchKind.LABELS, received_at__lt=cutoff)
            | Q(
                kind=BatchKind.REFERENCE,
                version__status=LifecycleStatus.RETIRED,
                version__retired_at__lt=cutoff,
            )
        ).order_by("sequence")
    )


def retention_purge(
    *, now: datetime | None = None, model: MonitoredModel | None = None, dry_run: bool = False
) -> list[PurgeReport]:
    now = now or timezone.now()
    models = MonitoredModel.objects.all() if model is None else MonitoredModel.objects.filter(pk=model.pk)
    reports = []
    for monitored in models.order_by("slug"):
        cutoff = now - timedelta(days=monitored.retention_days)
        if monitored.legal_hold:
            if purgeable_batches(monitored, cutoff):
                reports.append(PurgeReport(monitored.slug, cutoff, (), (), 0, None, held=True))
            continue
        report = _purge_model(monitored, cutoff=cutoff, now=now, dry_run=dry_run)
        if report is not None:
            reports.append(report)
    return reports


def _purge_model(
    model: MonitoredModel, *, cutoff: datetime, now: datetime, dry_run: bool
) -> PurgeReport | None:
    with transaction.atomic():
        model_lock(model)
        model.refresh_from_db(fields=["legal_hold"])
        if model.legal_hold:
            return None
        batches = purgeable_batches(model, cutoff)
        references = [b for b in batches if b.kind == BatchKind.REFERENCE]
        profiles = list(
            ReferenceProfile.objects.filter(
                batch__in=references, purged_at__isnull=True, holds_raw_values=True
            )
        )
        artefacts = list(ReferenceArtefact.objects.filter(batch__in=references, purged_at__isnull=True))
        states = list(FittedState.objects.filter(artefact__in=artefacts, purged_at__isnull=True))
        if not batches:
            return None
        if dry_run:
            return PurgeReport(
                model.slug,
                cutoff,
                tuple(b.pk for b in batches),
                tuple(p.pk for p in profiles),
                0,
                None,
                artefact_ids=tuple(a.pk for a in artefacts),
            )
        ids = [b.pk for b in batches]
        RecordId.objects.filter(batch_id__in=ids).delete()
        Label.objects.filter(batch_id__in=ids).delete()
        Batch.objects.filter(pk__in=ids).update(purged_at=now)
        ReferenceProfile.objects.filter(pk__in=[p.pk for p in profiles]).update(purged_at=now)
        ReferenceArtefact.objects.filter(pk__in=[a.pk for a in artefacts]).update(purged_at=now)
        FittedState.objects.filter(pk__in=[f.pk for f in states]).update(purged_at=now)
        entry = record(
            action=ledger_actions.MONITORS_RETENTION_PURGED,
            subject=model,
            payload={
                "model": model.slug,
                "retention_days": model.retention_days,
                "cutoff": cutoff.isoformat(),
                "batches": [
                    {
                        "batch": b.pk,
                        "kind": b.kind,
                        "posted_sha256": b.posted_sha256,
                        "stored_sha256": b.stored_sha256,
                        "row_count": b.row_count,
                    }
                    for b in batches
                ],
                "profiles": [{"profile": p.pk, "profile_sha256": p.profile_sha256} for p in profiles],
                **(
                    {
                        "artefacts": [
                            {"artefact": a.pk, "artefact_sha256": a.artefact_sha256} for a in artefacts
                        ],
                        "fitted_states": [{"state": f.pk, "state_sha256": f.state_sha256} for f in states],
                    }
                    if artefacts
                    else {}
                ),
            },
        )
    Batch.objects.filter(pk__in=ids).update(purge_ledger_sequence=entry.sequence)
    names = (
        {b.storage_name for b in batches}
        | {p.storage_name for p in profiles}
        | {a.storage_name for a in artefacts}
        | {f.storage_name for f in states}
    )
    deleted = 0
    for name in sorted(names):
        if not stored_name_in_use(name):
            delete_stored(name)
            deleted += 1
    return PurgeReport(
        model.slug,
        cutoff,
        tuple(ids),
        tuple(p.pk for p in profiles),
        deleted,
        entry.sequence,
        artefact_ids=tuple(a.pk for a in artefacts),
    )
