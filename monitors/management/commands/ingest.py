"""``manage.py ingest --model SLUG --kind production FILE``: the command-line door to batch_ingest.

Prints the accepted batch as JSON; a refused batch prints the structured error as JSON on stderr
and exits with code 2.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit.ledger.commands import OperatorCommand
from audit.ledger.context import Actor
from monitors.api.serializers import batch_summary
from monitors.ingest import IngestRefusal, batch_ingest
from monitors.models import BatchKind

REFUSED_EXIT_CODE = 2


class Command(OperatorCommand):
    help = "Validate, store and register a reference, production or label batch (Parquet, CSV or JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="the model's slug")
        parser.add_argument("--kind", required=True, choices=BatchKind.values)
        parser.add_argument("--model-version", help="the model version (label) a reference batch belongs to")
        parser.add_argument(
            "--content-type", default="", help="override the format detected from the file name"
        )
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = batch_ingest(
                model=options["model"],
                kind=options["kind"],
                source=options["file"],
                filename=options["file"],
                content_type=options["content_type"],
                sender=Actor.operator(),
                version=options["model_version"],
            )
        except IngestRefusal as refusal:
            raise CommandError(
                json.dumps({"refused": refusal.as_dict()}), returncode=REFUSED_EXIT_CODE
            ) from None
        except FileNotFoundError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from None
        summary = batch_summary(result.batch)
        summary["created"] = result.created
        self.stdout.write(json.dumps(summary, indent=2))
