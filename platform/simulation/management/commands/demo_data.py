"""``manage.py demo_data [--days 3]``: generated reference and production traffic for the demo fleet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from audit.ledger.commands import OperatorCommand
from audit.ledger.context import current_actor
from simulation.demo_data import demo_data_ingest


class Command(OperatorCommand):
    help = (
        "Generate and ingest demo data for every model with a production champion: a reference "
        "and a few days of production traffic, some of it shifted. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=3, help="days of production data (default 3)")
        parser.add_argument("--rows-per-day", type=int, default=3000)
        parser.add_argument("--reference-rows", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        report = demo_data_ingest(
            now=timezone.now(),
            days=options["days"],
            rows_per_day=options["rows_per_day"],
            reference_rows=options["reference_rows"],
            sender=current_actor(),
            progress=lambda line: self.stdout.write(line) if options["verbosity"] > 1 else None,
        )
        self.stdout.write(
            f"demo data: {report.models} models, {report.batches} new batches, "
            f"{report.rows:,} rows; shifted on the last day: "
            f"{len(report.drifted_models)} models"
        )
        for line in report.skipped:
            self.stderr.write(f"skipped: {line}")
