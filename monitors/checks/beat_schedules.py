"""The beat schedules of the check pipeline, stored in the database (django-celery-beat) and
editable in the admin. Installing is idempotent: an existing schedule is left as an operator
edited it unless ``reset`` is asked for."""

from __future__ import annotations

from typing import Any

from django.conf import settings

SWEEP_NAME = "checks: nightly fleet sweep"
RECONCILE_NAME = "checks: reconciler"


def schedules_install(
    *,
    PeriodicTask: Any,
    CrontabSchedule: Any,
    IntervalSchedule: Any,
    PeriodicTasks: Any,
    using: str = "default",
    reset: bool = False,
) -> list[str]:
    """Create (or with ``reset`` restore) both schedules; returns what it changed. Takes the model
    classes so that a data migration can pass its historical ones."""
    minute, hour, day_of_month, month_of_year, day_of_week = settings.FLEETWATCH_SWEEP_CRONTAB.split()
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone="UTC",
    )
    interval, _ = IntervalSchedule.objects.using(using).get_or_create(
        every=settings.FLEETWATCH_RECONCILE_EVERY_SECONDS, period="seconds"
    )
    wanted = {
        SWEEP_NAME: {
            "task": "checks.fleet_sweep",
            "crontab": crontab,
            "interval": None,
            "queue": settings.FLEETWATCH_SWEEP_QUEUE,
            "description": "Schedules every due drift and performance window of the fleet.",
        },
        RECONCILE_NAME: {
            "task": "checks.reconcile",
            "crontab": None,
            "interval": interval,
            "queue": settings.FLEETWATCH_SWEEP_QUEUE,
            "description": "Re-enqueues runs whose message or worker was lost; "
            "records windows past the missed horizon.",
        },
    }
    changed = []
    for name, fields in wanted.items():
        task = PeriodicTask.objects.using(using).filter(name=name).first()
        if task is not None and not reset:
            continue
        if task is None:
            PeriodicTask.objects.using(using).create(
                name=name, args="[]", kwargs="{}", enabled=True, **fields
            )
        else:
            for key, value in fields.items():
                setattr(task, key, value)
            task.enabled = True
            task.save(using=using)
        changed.append(name)
    if changed:
        # Beat re-reads its schedule when this marker moves; signals do not fire in migrations.
        from django.utils import timezone

        PeriodicTasks.objects.using(using).update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return changed
