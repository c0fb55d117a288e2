"""``manage.py purge_retention``: purge raw data past each model's retention period (never under
legal hold); hashes, aggregates and results stay, and each purge is in the ledger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit.ledger.commands import OperatorCommand
from monitors.retention import retention_purge
from registry.models import MonitoredModel


class Command(OperatorCommand):
    help = (
        "Purge raw batches, and the raw-value profiles, reference artefacts and fitted state built "
        "from them, older than each model's retention period."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", help="only this model (slug)")
        parser.add_argument("--dry-run", action="store_true", help="list what would be purged")

    def handle(self, *args: Any, **options: Any) -> None:
        model = None
        if options["model"]:
            model = MonitoredModel.objects.filter(slug=options["model"]).first()
            if model is None:
                raise CommandError(f"no model with slug {options['model']!r}")
        reports = retention_purge(model=model, dry_run=options["dry_run"])
        for report in reports:
            if report.held:
                self.stdout.write(f"{report.model}: under legal hold, nothing purged")
                continue
            verb = "would purge" if options["dry_run"] else "purged"
            entry = f" (ledger entry {report.ledger_sequence})" if report.ledger_sequence else ""
            self.stdout.write(
                f"{report.model}: {verb} {len(report.batch_ids)} batch(es) and "
                f"{len(report.profile_ids)} profile(s) older than {report.cutoff:%Y-%m-%d}{entry}"
            )
        if not reports:
            self.stdout.write("nothing is past its retention period")
