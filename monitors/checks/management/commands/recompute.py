"""``manage.py recompute RUN_ID``: an auditor's replay of one stored check run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit.ledger.commands import OperatorCommand
from monitors.checks.services.recompute import NotRecomputable, check_run_recompute


class Command(OperatorCommand):
    help = (
        "Re-read the stored batches a check run names (verifying their sha256), re-run its stages "
        "with the same parameters and seeds, store the result as a new revision and print every "
        "difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int, metavar="RUN_ID")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = check_run_recompute(run_id=options["run_id"])
        except NotRecomputable as exc:
            raise CommandError(str(exc)) from None
        original = report.original
        if report.purged:
            self.stdout.write(f"run #{original.pk} cannot be recomputed: {report.purged}")
            return
        revision = report.revision
        assert revision is not None
        self.stdout.write(
            f"recomputed run #{original.pk} ({original.model.slug} {original.kind} "
            f"[{original.window_start:%Y-%m-%d %H:%M}, {original.window_end:%Y-%m-%d %H:%M})) "
            f"as run #{revision.pk}, revision {revision.revision}, from {len(revision.data_sha256s)} "
            f"production batch(es) as of ingest point {revision.as_of_sequence}"
        )
        for line in report.differences:
            self.stdout.write(f"  - {line}")
        count = len(report.differences)
        self.stdout.write(f"{count} difference{'' if count == 1 else 's'}")
