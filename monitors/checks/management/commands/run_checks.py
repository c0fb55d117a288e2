"""Embedded mode: schedule and run checks in this process, through the same services the sweep
and the Celery workers use. For the demo, a laptop, or an operator re-running a window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from audit.ledger.commands import OperatorCommand
from monitors.checks.models import CheckRun, RunKind, RunOrigin, RunStatus
from monitors.checks.services.execute import check_run_execute
from monitors.checks.services.sweep import SweepReport, model_schedule
from registry.models import MonitoredModel


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date: use YYYY-MM-DD") from None


class Command(OperatorCommand):
    help = (
        "Schedule the due (or the named) windows and run their checks in-process. "
        "Dates are local dates in each model's plan time zone, both ends inclusive."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--model", action="append", metavar="SLUG", help="a model (repeatable)")
        which.add_argument("--all", action="store_true", help="every model in the inventory")
        parser.add_argument("--date", type=_date, help="the windows overlapping this day")
        parser.add_argument("--from", dest="date_from", type=_date, help="first day (with --to)")
        parser.add_argument("--to", dest="date_to", type=_date, help="last day (with --from)")
        parser.add_argument("--kind", choices=[k.value for k in RunKind], help="only this kind")

    def handle(self, *args: Any, **options: Any) -> None:
        span = self._span(options)
        if options["all"]:
            models = list(MonitoredModel.objects.order_by("slug"))
        else:
            slugs = options["model"]
            models = list(MonitoredModel.objects.filter(slug__in=slugs).order_by("slug"))
            unknown = sorted(set(slugs) - {m.slug for m in models})
            if unknown:
                raise CommandError(
                    f"no model with slug {', '.join(unknown)}; see `manage.py shell` "
                    "or the admin for the inventory"
                )
        kinds = (options["kind"],) if options["kind"] else (RunKind.DRIFT, RunKind.PERFORMANCE)

        now = timezone.now()
        report = SweepReport()
        for model in models:
            report.merge(
                model_schedule(
                    model=model, now=now, dispatch=None, origin=RunOrigin.EMBEDDED, span=span, kinds=kinds
                )
            )
        for slug in report.unplanned:
            self.stderr.write(f"{slug}: no monitoring plan in force, nothing scheduled")

        pending = CheckRun.objects.filter(model__in=models, kind__in=kinds, status=RunStatus.SCHEDULED)
        if span is not None:
            # Runs the sweep left scheduled outside the span are its business. The span is in each
            # plan's zone, so the UTC filter is a day wider on each side; newly scheduled ones count.
            lower = datetime.combine(span[0], time(0), tzinfo=UTC) - timedelta(days=1)
            upper = datetime.combine(span[1], time(0), tzinfo=UTC) + timedelta(days=2)
            pending = pending.filter(
                Q(pk__in=report.scheduled) | Q(window_end__gt=lower, window_start__lt=upper)
            )
        pending_ids = list(pending.order_by("window_end", "pk").values_list("pk", flat=True))
        for run_id in pending_ids:
            check_run_execute(run_id=run_id)

        touched = CheckRun.objects.filter(pk__in=[*report.scheduled, *report.missed, *pending_ids])
        for run in touched.select_related("model").order_by("model__slug", "kind", "window_start"):
            late = " late" if run.late else ""
            reason = f"  ({run.status_reason})" if run.status_reason else ""
            share = f"  drift share {run.drift_share:.3f}" if run.drift_share is not None else ""
            self.stdout.write(
                f"#{run.pk} {run.model.slug} {run.kind} "
                f"[{run.window_start:%Y-%m-%d %H:%M}, {run.window_end:%Y-%m-%d %H:%M}) "
                f"r{run.revision}: {run.status}{late}{share}{reason}"
            )
        if not touched.exists():
            self.stdout.write("nothing due")

    @staticmethod
    def _span(options: dict[str, Any]) -> tuple[date, date] | None:
        single, first, last = options["date"], options["date_from"], options["date_to"]
        if single and (first or last):
            raise CommandError("use --date D, or --from D --to D, not both")
        if single:
            return single, single
        if bool(first) != bool(last):
            raise CommandError("--from and --to go together")
        if first and last:
            if last < first:
                raise CommandError(f"--to {last} is before --from {first}")
            return first, last
        return None
