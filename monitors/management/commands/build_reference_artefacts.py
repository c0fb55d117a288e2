"""``manage.py build_reference_artefacts [--model SLUG]``: build the reference artefact of every
live reference that has none (references ingested before artefacts existed, or under an older
artefact code version). Idempotent: an artefact already stored is rebuilt in memory and its
bytes compared with the stored ones, which must be identical; nothing stored is replaced.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit.ledger.commands import OperatorCommand
from monitors.artefacts import reference_artefact_build, reference_artefact_compute, reference_artefact_row
from monitors.models import Batch, BatchKind
from registry.models import MonitoredModel
from registry.selectors import schema_current_or_none


class Command(OperatorCommand):
    help = "Build missing reference artefacts and check that stored ones rebuild to the same bytes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", help="only this model (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        references = Batch.objects.filter(kind=BatchKind.REFERENCE, purged_at__isnull=True).select_related(
            "model", "version"
        )
        if options["model"]:
            model = MonitoredModel.objects.filter(slug=options["model"]).first()
            if model is None:
                raise CommandError(f"no model with slug {options['model']!r}")
            references = references.filter(model=model)
        differing = 0
        listed = references.order_by("model__slug", "sequence")
        if not listed.exists():
            self.stdout.write("no reference batches: nothing to build (ingest a reference first)")
            return
        for batch in listed:
            where = f"{batch.model.slug} {batch.version.label if batch.version else '?'} (batch {batch.pk})"
            schema = schema_current_or_none(batch.version) if batch.version else None
            if schema is None:
                self.stdout.write(f"{where}: skipped, the version has no feature schema")
                continue
            existing = reference_artefact_row(batch, schema)
            if existing is None:
                row, _ = reference_artefact_build(batch=batch, schema=schema)
                self.stdout.write(f"{where}: built {row.artefact_sha256}")
                continue
            rebuilt = hashlib.sha256(reference_artefact_compute(batch, schema).to_bytes()).hexdigest()
            if rebuilt == existing.artefact_sha256:
                self.stdout.write(f"{where}: identical {existing.artefact_sha256}")
            else:
                differing += 1
                self.stdout.write(
                    f"{where}: rebuilt bytes hash to {rebuilt}, stored {existing.artefact_sha256} "
                    f"(were FLEETWATCH_REFERENCE_SUBSAMPLE_ROWS or FLEETWATCH_REFERENCE_HOLDOUT_CAP "
                    f"changed? it was built with {existing.settings})"
                )
        if differing:
            raise CommandError(f"{differing} stored artefact(s) do not rebuild to the same bytes")
