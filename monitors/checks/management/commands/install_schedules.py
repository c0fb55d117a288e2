from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks

from audit.ledger import record
from audit.ledger.commands import OperatorCommand
from monitors.checks.beat_schedules import schedules_install
from vocabulary import ledger_actions


class Command(OperatorCommand):
    help = "Create the beat schedules of the check pipeline (idempotent; --reset restores defaults)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="overwrite schedules an operator has edited with the defaults",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            changed = schedules_install(
                PeriodicTask=PeriodicTask,
                CrontabSchedule=CrontabSchedule,
                IntervalSchedule=IntervalSchedule,
                PeriodicTasks=PeriodicTasks,
                reset=options["reset"],
            )
            if changed:
                record(
                    action=ledger_actions.CHECKS_SCHEDULES_INSTALLED,
                    payload={"schedules": changed, "reset": options["reset"]},
                )
        self.stdout.write(f"installed: {', '.join(changed)}" if changed else "schedules already installed")
