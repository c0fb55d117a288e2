"""The reconciler: a lost message delays a check, never loses it.

Runs left ``scheduled`` longer than the requeue delay (their message may have vanished with a
Redis restart) and runs left ``running`` with an expired lease (their worker died) are enqueued
again; the claim decides who gets them. A run still unchecked past the missed horizon is
recorded ``missed`` instead. Each action is in the ledger.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from audit.ledger import record
from monitors.checks.due import due_of, missed_horizon
from monitors.checks.models import CheckRun, RunStatus
from monitors.checks.services.dispatch import Dispatch, dispatch_on_commit, enqueue_run
from vocabulary import ledger_actions

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    requeued: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"requeued": len(self.requeued), "missed": len(self.missed)}


def requeue_delay() -> timedelta:
    return timedelta(seconds=settings.FLEETWATCH_CHECK_REQUEUE_AFTER_SECONDS)


def checks_reconcile(
    *,
    now: datetime,
    dispatch: Dispatch | None = enqueue_run,
    requeue_after: timedelta | None = None,
    horizon: timedelta | None = None,
    limit: int = 1000,
) -> ReconcileReport:
    requeue_after = requeue_after if requeue_after is not None else requeue_delay()
    horizon = horizon if horizon is not None else missed_horizon()
    report = ReconcileReport()

    stale_scheduled = Q(status=RunStatus.SCHEDULED) & (
        Q(enqueued_at__isnull=True, scheduled_at__lte=now - requeue_after)
        | Q(enqueued_at__lte=now - requeue_after)
    )
    # Sent again once when its lease expires, then no more often than the requeue delay.
    expired_running = Q(status=RunStatus.RUNNING, lease_expires_at__lte=now) & (
        Q(enqueued_at__isnull=True)
        | Q(enqueued_at__lt=F("lease_expires_at"))
        | Q(enqueued_at__lte=now - requeue_after)
    )
    candidates = (
        CheckRun.objects.filter(stale_scheduled | expired_running)
        .order_by("window_end", "pk")
        .select_related("model")[:limit]
    )

    for run in candidates:
        with transaction.atomic():
            if due_of(run).missed(now, horizon=horizon):
                if _mark_missed(run, now=now, horizon=horizon):
                    report.missed.append(run.pk)
                continue
            reason = "lease expired" if run.status == RunStatus.RUNNING else "left scheduled"
            # Compare-and-set on what was read, so two reconcilers do not both resend it.
            if (
                CheckRun.objects.filter(
                    pk=run.pk, status=run.status, enqueued_at=run.enqueued_at, attempt=run.attempt
                ).update(enqueued_at=now)
                != 1
            ):
                continue
            record(
                action=ledger_actions.CHECKS_RUN_REQUEUED,
                subject=run,
                payload={
                    "run": run.pk,
                    "model": run.model.slug,
                    "kind": run.kind,
                    "reason": reason,
                    "status": run.status,
                    "attempt": run.attempt,
                    "lease_expires_at": run.lease_expires_at.isoformat() if run.lease_expires_at else None,
                },
            )
            dispatch_on_commit(dispatch, [run.pk])
            report.requeued.append(run.pk)
    if report.requeued or report.missed:
        logger.info("reconcile at %s: %s", now.isoformat(), report.as_dict())
    return report


def _mark_missed(run: CheckRun, *, now: datetime, horizon: timedelta) -> bool:
    reason = (
        f"still {run.status} {horizon.total_seconds() / 3600:g} h after its deadline "
        f"{run.deadline.isoformat()} (after {run.attempt} attempt(s))"
    )
    if (
        CheckRun.objects.filter(pk=run.pk, status=run.status, attempt=run.attempt).update(
            status=RunStatus.MISSED, status_reason=reason, late=True, finished_at=now, lease_expires_at=None
        )
        != 1
    ):
        return False
    record(
        action=ledger_actions.CHECKS_RUN_MISSED,
        subject=run,
        payload={
            "run": run.pk,
            "model": run.model.slug,
            "version": run.version_id,
            "kind": run.kind,
            "window": [run.window_start.isoformat(), run.window_end.isoformat()],
            "revision": run.revision,
            "deadline": run.deadline.isoformat(),
            "reason": reason,
        },
    )
    return True
