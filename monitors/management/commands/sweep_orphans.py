"""``manage.py sweep_orphans``: remove stored files that no batch points at (after the grace
period) and report parked labels whose record never arrived."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from audit.ledger.commands import OperatorCommand
from monitors.orphans import sweep


class Command(OperatorCommand):
    help = "Remove orphaned stored files older than the grace period; mark expired parked labels as orphans."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=None,
            help=f"default FLEETWATCH_ORPHAN_GRACE_HOURS ({settings.FLEETWATCH_ORPHAN_GRACE_HOURS})",
        )
        parser.add_argument("--dry-run", action="store_true", help="list what would be removed")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["grace_hours"]
        grace = timedelta(hours=hours) if hours is not None else None
        report = sweep(grace=grace, dry_run=options["dry_run"])
        verb = "would remove" if options["dry_run"] else "removed"
        for name in report.deleted:
            self.stdout.write(f"{verb} {name}")
        self.stdout.write(
            f"{verb} {len(report.deleted)} orphaned file(s); kept {len(report.kept_young)} "
            f"younger than the grace period"
        )
        for slug, n in sorted(report.labels_orphaned.items()):
            self.stdout.write(f"{slug}: {n} parked label(s) expired without their record (orphans)")
