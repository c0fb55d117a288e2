"""Handing a run to the broker: only its id travels, only after the row is committed."""

from __future__ import annotations

from collections.abc import Callable

from celery import current_app
from django.db import transaction

RUN_EXECUTE_TASK = "checks.run_execute"

Dispatch = Callable[[int], object]


def enqueue_run(run_id: int) -> None:
    """Send ``checks.run_execute(run_id)``; the route in settings puts it on the checks queue."""
    current_app.send_task(RUN_EXECUTE_TASK, args=[run_id])


def dispatch_on_commit(dispatch: Dispatch | None, run_ids: list[int]) -> None:
    """Enqueue after the surrounding transaction commits. ``robust``: a broker that is down must
    not undo what is already committed; the run stays ``scheduled`` and the reconciler sends it
    again later."""
    if dispatch is None:
        return
    for run_id in run_ids:
        transaction.on_commit(lambda run_id=run_id: dispatch(run_id), robust=True)
