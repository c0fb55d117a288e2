"""``make demo``: the main job on embedded defaults, end to end, in one process.

Seeds the fleet, ingests generated reference and production data, runs the checks that the last
days' windows call for, and shows what was found and that the ledger holds it all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db.models import Count
from django.utils import timezone

from audit.ledger.commands import OperatorCommand
from audit.ledger.selectors import ledger_head
from monitors.checks.models import CheckRun, FeatureResult, RunStatus


class Command(OperatorCommand):
    help = "Seed a fleet, ingest demo data, run the nightly checks and summarise (embedded mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models", type=int, default=60)
        parser.add_argument("--days", type=int, default=3)
        parser.add_argument("--rows-per-day", type=int, default=3000)

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.now().date()
        first, last = today - timedelta(days=options["days"]), today - timedelta(days=1)

        self._step(f"1. registering a fleet of {options['models']} models")
        call_command("seed_fleet", models=options["models"], stdout=self.stdout)
        self._step(f"2. ingesting references and {options['days']} days of production traffic")
        call_command(
            "demo_data",
            days=options["days"],
            rows_per_day=options["rows_per_day"],
            stdout=self.stdout,
            stderr=self.stderr,
        )
        self._step(f"3. running the checks for the windows of {first} .. {last}")
        call_command(
            "run_checks", all=True, date_from=first, date_to=last, stdout=_Quiet(), stderr=self.stderr
        )
        self._summary(first)
        self._step("4. verifying the ledger")
        call_command("audit_verify", stdout=self.stdout)
        self.stdout.write(f"ledger head (keep it outside the database): {ledger_head()}")
        self.stdout.write(
            "\nNot built yet: policy decisions and approvals, and the signed PDF report "
            "(later issues); see README 'Status'."
        )

    def _step(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n{text}"))

    def _summary(self, first: Any) -> None:
        runs = CheckRun.objects.filter(window_end__date__gt=first)
        by_status = dict(runs.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        late = runs.filter(late=True).count()
        self.stdout.write(
            "check runs: "
            + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
            + f" ({late} run after their deadline, flagged late)"
        )
        drifted = (
            runs.filter(status=RunStatus.SUCCEEDED, drift_detected=True)
            .select_related("model", "version")
            .order_by("model__slug", "window_start")
        )
        self.stdout.write(f"runs with drift over the plan's drift-share threshold: {drifted.count()}")
        for run in drifted[:12]:
            features = sorted(
                set(
                    FeatureResult.objects.filter(run=run, drifted=True, segment="").values_list(
                        "feature", flat=True
                    )
                )
            )
            self.stdout.write(
                f"  #{run.pk} {run.model.slug}@{run.version.label} "
                f"[{run.window_start:%Y-%m-%d}]: drift share {run.drift_share:.2f} "
                f"in {', '.join(features[:5])}"
            )


class _Quiet:
    """run_checks prints a line per run; the demo prints its own summary instead."""

    def write(self, *args: Any, **kwargs: Any) -> None:
        return None

    def flush(self) -> None:
        return None
