"""The sweep: which windows are due, written as ``scheduled`` rows before anything is enqueued.

For every production version of every model, and for each kind, the windows of the plan's grid
that closed since the newest window already recorded are due — for ``performance`` only once the
plan's label maturity has passed. They are written oldest first, so that after an outage the next
sweep catches up in order. A window whose deadline (due time + the plan's grace) has passed is
flagged late; one past the missed horizon is recorded as ``missed`` instead of being checked
(when a window is due and late: ``monitors.checks.due``). Every row goes to the ledger: a gap is
never silent.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet

from audit.ledger import record
from monitors.checks.due import due_for, maturity_for, missed_horizon
from monitors.checks.models import CheckRun, RunKind, RunOrigin, RunStatus
from monitors.checks.services.dispatch import Dispatch, dispatch_on_commit, enqueue_run
from monitors.checks.windows import Window, WindowGrid
from registry.models import ModelVersion, MonitoredModel, MonitoringPlan, RetrainingPolicy
from vocabulary import ledger_actions

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    scheduled: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)
    unplanned: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: SweepReport) -> None:
        self.scheduled += other.scheduled
        self.missed += other.missed
        self.late += other.late
        self.unplanned += other.unplanned
        self.errors += other.errors

    def as_dict(self) -> dict[str, object]:
        return {
            "scheduled": len(self.scheduled),
            "missed": len(self.missed),
            "late": len(self.late),
            "unplanned": self.unplanned,
            "errors": self.errors,
        }


def run_seed(*, version_id: int, kind: str, window: Window) -> int:
    """A seed derived from the run's key alone, so a recompute (same key) draws the same numbers."""
    key = f"{version_id}|{kind}|{window.start.isoformat()}|{window.end.isoformat()}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big")


def grid_for(plan: MonitoringPlan, kind: str) -> WindowGrid:
    days = plan.drift_window_days if kind == RunKind.DRIFT else plan.performance_window_days
    return WindowGrid(length_days=days, alignment=plan.window_alignment, time_zone=plan.time_zone)


def fleet_sweep(
    *,
    now: datetime,
    dispatch: Dispatch | None = enqueue_run,
    models: QuerySet[MonitoredModel] | None = None,
    horizon: timedelta | None = None,
) -> SweepReport:
    """Schedule every due window of every monitored model (or of ``models``); one transaction per
    model, so one model's trouble never holds back the rest of the fleet."""
    report = SweepReport()
    queryset = models if models is not None else MonitoredModel.objects.all()
    for model in queryset.order_by("slug"):
        try:
            report.merge(model_schedule(model=model, now=now, dispatch=dispatch, horizon=horizon))
        except IntegrityError:
            # Another sweep wrote the same windows first: the unique key did its job.
            logger.info("sweep: %s already scheduled by a concurrent sweep", model.slug)
    if report.missed or report.unplanned or report.errors:
        logger.warning("sweep at %s: %s", now.isoformat(), report.as_dict())
    return report


def model_schedule(
    *,
    model: MonitoredModel,
    now: datetime,
    dispatch: Dispatch | None = enqueue_run,
    horizon: timedelta | None = None,
    origin: str = RunOrigin.SCHEDULE,
    span: tuple[date, date] | None = None,
    kinds: tuple[str, ...] = (RunKind.DRIFT, RunKind.PERFORMANCE),
) -> SweepReport:
    """Write the due runs of one model in one transaction, ledger last, enqueue after commit.

    Without ``span`` the windows start after the newest one already recorded for the version and
    kind (or at its deployment), and those past the missed horizon are recorded ``missed``. With
    ``span`` (``run_checks --date/--from/--to``: local dates in the plan's zone, both inclusive)
    every due window overlapping it that is not yet checked is scheduled, late if need be, and a
    ``missed`` one gets a new revision: an operator asked for it explicitly.
    """
    from registry import selectors as registry

    horizon = horizon if horizon is not None else missed_horizon()
    report = SweepReport()
    try:
        plan = registry.plan_in_force(model)
    except LookupError:
        plan = None
    if plan is None:
        report.unplanned.append(model.slug)
        with transaction.atomic():
            record(
                action=ledger_actions.CHECKS_MODEL_UNPLANNED,
                subject=model,
                payload={
                    "model": model.slug,
                    "at": now.isoformat(),
                    "reason": "no monitoring plan in force: nothing can be scheduled",
                },
            )
        return report
    policy = registry.policy_in_force(model)

    with transaction.atomic():
        created: list[CheckRun] = []
        for version in registry.production_versions(model):
            for kind in kinds:
                created += _schedule_series(
                    model=model,
                    version=version,
                    kind=kind,
                    plan=plan,
                    policy=policy,
                    now=now,
                    horizon=horizon,
                    origin=origin,
                    span=span,
                    enqueue=dispatch is not None,
                )
        for run in created:
            _record_new_run(run)
        dispatch_on_commit(dispatch, [r.pk for r in created if r.status == RunStatus.SCHEDULED])

    for run in created:
        (report.missed if run.status == RunStatus.MISSED else report.scheduled).append(run.pk)
        if run.late and run.status != RunStatus.MISSED:
            report.late.append(run.pk)
    return report


def _schedule_series(
    *,
    model: MonitoredModel,
    version: ModelVersion,
    kind: str,
    plan: MonitoringPlan,
    policy: RetrainingPolicy | None,
    now: datetime,
    horizon: timedelta,
    origin: str,
    span: tuple[date, date] | None,
    enqueue: bool,
) -> list[CheckRun]:
    grid = grid_for(plan, kind)
    maturity = maturity_for(plan, kind)
    latest_due = now - maturity
    existing = CheckRun.objects.filter(version=version, kind=kind)
    explicit = span is not None
    if span is not None:
        first_day, last_day = span
        since = grid.containing(grid.local_midnight(first_day)).start
        latest_due = min(
            latest_due,
            grid.containing(
                grid.local_midnight(last_day + timedelta(days=1)) - timedelta(microseconds=1)
            ).end,
        )
    else:
        newest_end = existing.aggregate(newest=Max("window_end"))["newest"]
        if newest_end is not None:
            since = newest_end  # from here on every window is accounted for, one after another
        else:
            # A series' first sweep looks back a bounded time, so that registering a model that
            # has served for years does not file a missed run for every window before monitoring
            # began. Where the series starts is on record: its first run names its window.
            deployed = version.deployed_at or version.created_at
            look_back_from = latest_due - timedelta(days=settings.FLEETWATCH_CHECK_FIRST_LOOKBACK_DAYS)
            since = max(deployed, grid.containing(look_back_from).start)
    windows = list(grid.closed_between(since, latest_due))
    if not windows:
        return []
    latest = _latest_revisions(existing, windows)

    created = []
    for window in windows:
        previous = latest.get((window.start, window.end))
        if previous is not None and (previous.status != RunStatus.MISSED or not explicit):
            continue  # already checked or on its way; a missed window is redone only on request
        due = due_for(plan, kind, window)
        missed = previous is None and not explicit and due.missed(now, horizon=horizon)
        run = CheckRun(
            model=model,
            version=version,
            kind=kind,
            window_start=window.start,
            window_end=window.end,
            revision=previous.revision + 1 if previous else 1,
            supersedes=previous,
            origin=origin,
            status=RunStatus.MISSED if missed else RunStatus.SCHEDULED,
            status_reason=(
                f"not checked within {horizon.total_seconds() / 3600:g} h of its deadline "
                f"{due.deadline.isoformat()}"
                if missed
                else ""
            ),
            late=due.late(now),
            due_at=due.due_at,
            deadline=due.deadline,
            scheduled_at=now,
            enqueued_at=now if enqueue and not missed else None,
            finished_at=now if missed else None,
            plan=plan,
            policy=policy,
            seeds={"run": run_seed(version_id=version.pk, kind=kind, window=window)},
        )
        run.save()
        created.append(run)
    return created


def _latest_revisions(
    existing: QuerySet[CheckRun], windows: list[Window]
) -> dict[tuple[datetime, datetime], CheckRun]:
    latest: dict[tuple[datetime, datetime], CheckRun] = {}
    rows = existing.filter(window_start__gte=windows[0].start, window_end__lte=windows[-1].end).order_by(
        "revision"
    )
    for run in rows:
        latest[(run.window_start, run.window_end)] = run
    return latest


def _record_new_run(run: CheckRun) -> None:
    payload = {
        "run": run.pk,
        "model": run.model.slug,
        "version": run.version_id,
        "kind": run.kind,
        "window": [run.window_start.isoformat(), run.window_end.isoformat()],
        "revision": run.revision,
        "supersedes": run.supersedes_id,
        "origin": run.origin,
        "deadline": run.deadline.isoformat(),
        "late": run.late,
        "plan": run.plan_id,
        "policy": run.policy_id,
    }
    if run.status == RunStatus.MISSED:
        record(
            action=ledger_actions.CHECKS_RUN_MISSED,
            subject=run,
            payload={**payload, "reason": run.status_reason},
        )
    else:
        record(action=ledger_actions.CHECKS_RUN_SCHEDULED, subject=run, payload=payload)
