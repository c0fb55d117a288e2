"""Celery tasks: thin. Each takes an id (or nothing but an optional ``now``), calls a service and
returns.

``run_execute`` acknowledges late and is rejected back to the queue when its worker dies: the
claim makes a second delivery harmless. The sweep and the reconciler acknowledge late too: the
run key's unique constraint and their compare-and-set updates make a rerun harmless. Retries are
for transient errors only (database or broker unreachable), with backoff and jitter.

The statistics engine, pandas and the data plane's readers are imported here, in the worker's
main process, so that prefork children start with them loaded instead of spending their first
task (and its time limit) on imports.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pandas  # noqa: F401  (pyarrow imports it lazily, on a child's first task)
from celery import Task, shared_task
from django.utils import timezone

import monitors.checks.inputs
import monitors.checks.stages
import monitors.selectors
import monitors.stats  # noqa: F401
from monitors.checks.services.execute import TRANSIENT_ERRORS, check_run_execute
from monitors.checks.services.reconcile import checks_reconcile
from monitors.checks.services.sweep import fleet_sweep

_RETRY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


def _when(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else timezone.now()


@shared_task(name="checks.fleet_sweep", acks_late=True, **_RETRY)
def fleet_sweep_task(now: str | None = None) -> dict[str, Any]:
    return fleet_sweep(now=_when(now)).as_dict()


@shared_task(name="checks.reconcile", acks_late=True, **_RETRY)
def reconcile_task(now: str | None = None) -> dict[str, int]:
    return checks_reconcile(now=_when(now)).as_dict()


@shared_task(name="checks.run_execute", bind=True, acks_late=True, reject_on_worker_lost=True, **_RETRY)
def run_execute_task(self: Task, run_id: int) -> str:
    outcome = check_run_execute(run_id=run_id)
    if outcome.result == "held" and outcome.retry_after is not None and self.request.retries < 3:
        # Another attempt holds a live lease; come back when it expires in case that worker died.
        countdown = outcome.retry_after.total_seconds() + 1 + random.uniform(0, 2)
        raise self.retry(countdown=countdown, max_retries=3)
    return outcome.result
