"""manage.py seed_fleet [--models 60]"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandParser

from audit.ledger.commands import OperatorCommand
from registry.management.commands._document_errors import bad_input
from registry.services import RegistryPermissionDenied, RegistryValidationError
from simulation.fleet_seed import seed_fleet


class Command(OperatorCommand):
    help = (
        "Create a realistic demonstration fleet (teams, users, models with versions, "
        "schemas, plans and policies). Idempotent: a second run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models", type=int, default=60, help="how many models (60)")
        parser.add_argument("--verbose-changes", action="store_true", help="list every change made")

    def handle(self, *args: Any, models: int, verbose_changes: bool, **options: Any) -> None:
        if models < 1:
            raise bad_input(f"--models {models}: give at least 1")
        started = time.monotonic()
        try:
            summary = seed_fleet(models=models)
        except (RegistryValidationError, RegistryPermissionDenied) as exc:
            raise bad_input(f"the seed was refused: {exc}") from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"{models} models: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged; {summary.users_created} users created "
            f"({elapsed:.1f}s)"
        )
        if verbose_changes:
            for change in summary.changes:
                self.stdout.write(f"  {change}")
