"""When a window is due, late and missed (``monitors.checks.due``), with times computed by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from monitors.checks.due import Due, due_for, due_of, maturity_for, missed_horizon
from monitors.checks.models import CheckRun, RunKind
from monitors.checks.windows import Window, WindowGrid
from registry.models import MonitoringPlan


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def plan(*, grace_hours: int = 0, label_maturity_days: int = 0) -> MonitoringPlan:
    """Only the two values a due time depends on; never saved."""
    return MonitoringPlan(grace_hours=grace_hours, label_maturity_days=label_maturity_days)


def test_a_drift_window_is_due_when_it_closes_and_its_deadline_is_the_plans_grace_later():
    day = Window(utc(2025, 3, 1), utc(2025, 3, 2))
    due = due_for(plan(grace_hours=6, label_maturity_days=30), RunKind.DRIFT, day)
    # drift needs no labels: the maturity does not apply
    assert due == Due(due_at=utc(2025, 3, 2), deadline=utc(2025, 3, 2, 6))


def test_a_performance_window_waits_for_label_maturity_before_it_is_due():
    week = Window(utc(2025, 1, 2), utc(2025, 1, 9))
    due = due_for(plan(grace_hours=12, label_maturity_days=30), RunKind.PERFORMANCE, week)
    # 9 January + 30 days = 8 February; + 12 h of grace
    assert due == Due(due_at=utc(2025, 2, 8), deadline=utc(2025, 2, 8, 12))


def test_grace_hours_beyond_a_day_carry_over_into_the_following_days():
    day = Window(utc(2025, 12, 31), utc(2026, 1, 1))
    due = due_for(plan(grace_hours=36), RunKind.DRIFT, day)
    assert due == Due(due_at=utc(2026, 1, 1), deadline=utc(2026, 1, 2, 12))


def test_a_window_in_a_local_time_zone_is_due_at_its_local_midnight():
    # London's spring change: 30 March 2025 has 23 hours, from 00:00 GMT to 00:00 BST (23:00 UTC).
    grid = WindowGrid(length_days=1, time_zone="Europe/London")
    window = grid.containing(utc(2025, 3, 30, 12))
    assert (window.start, window.end) == (utc(2025, 3, 30), utc(2025, 3, 30, 23))
    due = due_for(plan(grace_hours=6, label_maturity_days=2), RunKind.PERFORMANCE, window)
    assert due == Due(due_at=utc(2025, 4, 1, 23), deadline=utc(2025, 4, 2, 5))


def test_a_performance_plan_without_label_maturity_is_due_at_the_windows_end():
    assert maturity_for(plan(), RunKind.PERFORMANCE) == timedelta(0)
    assert maturity_for(plan(label_maturity_days=14), RunKind.PERFORMANCE) == timedelta(days=14)
    assert maturity_for(plan(label_maturity_days=14), RunKind.DRIFT) == timedelta(0)


def test_late_is_strictly_after_the_deadline_and_missed_strictly_after_the_horizon():
    due = Due(due_at=utc(2025, 1, 2), deadline=utc(2025, 1, 2, 6))
    tick = timedelta(microseconds=1)
    assert not due.late(utc(2025, 1, 2, 6)) and due.late(utc(2025, 1, 2, 6) + tick)
    horizon = timedelta(hours=48)
    assert not due.missed(utc(2025, 1, 4, 6), horizon=horizon)
    assert due.missed(utc(2025, 1, 4, 6) + tick, horizon=horizon)


def test_the_missed_horizon_is_the_setting_in_hours(settings):
    settings.FLEETWATCH_CHECK_MISSED_HORIZON_HOURS = 30
    assert missed_horizon() == timedelta(hours=30)


def test_a_run_keeps_the_due_time_it_was_scheduled_with():
    run = CheckRun(due_at=utc(2025, 2, 8), deadline=utc(2025, 2, 8, 12))
    assert due_of(run) == Due(due_at=utc(2025, 2, 8), deadline=utc(2025, 2, 8, 12))


@pytest.mark.django_db
def test_the_sweep_stores_the_due_time_and_deadline_due_for_gives():
    from monitors.checks.services.sweep import fleet_sweep
    from tests.monitors.checks.world import make_model

    make_model("mortgage-pd", performance_window_days=7, label_maturity_days=30, grace_hours=12)
    fleet_sweep(now=utc(2025, 2, 8, 13), dispatch=None)
    performance = CheckRun.objects.get(kind=RunKind.PERFORMANCE)
    assert (performance.window_start, performance.window_end) == (utc(2025, 1, 2), utc(2025, 1, 9))
    assert (performance.due_at, performance.deadline) == (utc(2025, 2, 8), utc(2025, 2, 8, 12))
    assert performance.late  # 13:00 is an hour past the deadline
