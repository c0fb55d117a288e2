from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fleetwatch.health import run_probes


class Command(BaseCommand):
    help = "Check the database, storage and broker; exit 1 if any is unhealthy."

    def handle(self, *args: Any, **options: Any) -> None:
        probes = run_probes()
        for probe in probes:
            self.stdout.write(f"{'ok  ' if probe.ok else 'FAIL'} {probe.name}: {probe.detail}")
        if not all(p.ok for p in probes):
            raise CommandError("unhealthy", returncode=1)
