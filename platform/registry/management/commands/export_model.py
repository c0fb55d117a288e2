"""manage.py export_model SLUG [-o FILE]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.documents.export import model_export
from registry.documents.yaml_lines import dump_yaml
from registry.management.commands._document_errors import bad_input
from registry.models import MonitoredModel


class Command(BaseCommand):
    help = "Write a model's document (the format register_model reads) to standard output or to -o FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", help="write to this file instead of stdout")

    def handle(self, *args: Any, slug: str, output: str | None, **options: Any) -> None:
        model = (
            MonitoredModel.objects.select_related(
                "owner", "team", "developer", "validator", "accountable_executive", "risk_tier_set_by"
            )
            .filter(slug=slug)
            .first()
        )
        if model is None:
            raise bad_input(f"there is no model '{slug}'")
        text = f"# exported by manage.py export_model {slug}\n" + dump_yaml(model_export(model))
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise bad_input(f"{output}: cannot write: {exc.strerror or exc}") from exc
        self.stdout.write(f"wrote {output}")
