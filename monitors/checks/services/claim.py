"""Claiming a run: a compare-and-set that takes a lease.

A claim succeeds on a ``scheduled`` run, or on a ``running`` one whose lease has expired (its
worker died); it increments ``attempt``. A duplicate delivery of the same message therefore finds
the run taken, and a redelivery after a crash finds the lease expired. Whatever an attempt
computed is committed only while ``(id, attempt, status='running')`` still matches (see
``execute.check_run_commit``), so an attempt that wakes up after its lease was taken over
commits nothing.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from monitors.checks.models import CheckRun, RunStatus


@dataclass(frozen=True)
class Claim:
    run_id: int
    attempt: int
    lease_expires_at: datetime
    host: str
    pid: int


@dataclass(frozen=True)
class Refusal:
    """The run could not be claimed: gone, already final, or held under a live lease."""

    run_id: int
    status: str | None
    lease_expires_at: datetime | None = None

    @property
    def held(self) -> bool:
        return self.status == RunStatus.RUNNING and self.lease_expires_at is not None


def lease_length() -> timedelta:
    return timedelta(seconds=settings.FLEETWATCH_CHECK_LEASE_SECONDS)


def check_run_claim(
    *,
    run_id: int,
    now: datetime,
    lease: timedelta | None = None,
    host: str | None = None,
    pid: int | None = None,
) -> Claim | Refusal:
    lease = lease if lease is not None else lease_length()
    host = host if host is not None else socket.gethostname()
    pid = pid if pid is not None else os.getpid()
    expires = now + lease
    with transaction.atomic():
        claimable = Q(status=RunStatus.SCHEDULED) | Q(status=RunStatus.RUNNING, lease_expires_at__lte=now)
        taken = CheckRun.objects.filter(claimable, pk=run_id).update(
            status=RunStatus.RUNNING,
            attempt=F("attempt") + 1,
            lease_expires_at=expires,
            worker_host=host[:255],
            worker_pid=pid,
            started_at=now,
        )
        # The UPDATE holds the row lock until commit, so the attempt read back is ours.
        row = CheckRun.objects.filter(pk=run_id).values("status", "attempt", "lease_expires_at").first()
    if row is None:
        return Refusal(run_id=run_id, status=None)
    if taken != 1:
        return Refusal(run_id=run_id, status=row["status"], lease_expires_at=row["lease_expires_at"])
    return Claim(run_id=run_id, attempt=row["attempt"], lease_expires_at=expires, host=host, pid=pid)


def check_run_release(*, claim: Claim) -> bool:
    """Give a claimed run back (a transient error stopped the attempt) so the next try need not
    wait for the lease to expire. Best effort: if the database is what failed, the lease does it."""
    return (
        CheckRun.objects.filter(pk=claim.run_id, attempt=claim.attempt, status=RunStatus.RUNNING).update(
            status=RunStatus.SCHEDULED, lease_expires_at=None
        )
        == 1
    )
