"""After an outage the next sweep catches up in order, late; what is past the horizon is missed.
And ``run_checks``, the embedded mode, runs the same services in-process."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from audit.ledger.models import LedgerEntry
from monitors.checks.models import CheckRun, RunKind, RunStatus
from monitors.checks.services.execute import check_run_execute
from monitors.checks.services.sweep import fleet_sweep
from tests.monitors.checks.data import ingest_reference, ingest_window
from tests.monitors.checks.world import make_model

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def model(storage_dir):
    model = make_model("card-fraud", grace_hours=6)
    ingest_reference(model)
    for day in range(1, 11):
        ingest_window(model, start=utc(2025, 1, day), end=utc(2025, 1, day + 1), seed=day)
    return model


def nightly(now: datetime) -> list[CheckRun]:
    """What beat and the workers do each night: the sweep, then every scheduled run, in order."""
    report = fleet_sweep(now=now, dispatch=None)
    for run_id in report.scheduled:
        check_run_execute(run_id=run_id, now=now + timedelta(minutes=5))
    return list(
        CheckRun.objects.filter(pk__in=report.scheduled + report.missed, kind=RunKind.DRIFT).order_by(
            "window_start"
        )
    )


def test_three_days_without_a_scheduler_are_caught_up_in_order_and_marked_late(model):
    (first,) = nightly(utc(2025, 1, 2, 1))
    assert (first.status, first.late) == ("succeeded", False)

    # Beat is down on 3, 4 and 5 January; it comes back for the sweep of 6 January.
    caught_up = nightly(utc(2025, 1, 6, 1))
    assert [r.window_start.day for r in caught_up] == [2, 3, 4, 5]
    assert [r.status for r in caught_up] == ["succeeded"] * 4
    assert [r.late for r in caught_up] == [True, True, True, False]
    assert [r.pk for r in caught_up] == sorted(r.pk for r in caught_up)  # scheduled oldest first
    late_entries = LedgerEntry.objects.filter(
        action="checks.run.succeeded", payload__late=True, payload__kind="drift"
    )
    assert sorted(e.payload["window"][0][:10] for e in late_entries) == [
        "2025-01-02",
        "2025-01-03",
        "2025-01-04",
    ]


def test_a_window_unchecked_past_the_horizon_is_missed_and_in_the_ledger(model, settings):
    settings.FLEETWATCH_CHECK_MISSED_HORIZON_HOURS = 48
    for day in range(2, 7):
        nightly(utc(2025, 1, day, 1))
    assert not CheckRun.objects.filter(status=RunStatus.MISSED).exists()
    # Beat is down from 7 to 10 January.
    runs = nightly(utc(2025, 1, 11, 1))
    assert [(r.window_start.day, r.status, r.late) for r in runs] == [
        (6, "missed", True),
        (7, "missed", True),
        (8, "succeeded", True),
        (9, "succeeded", True),
        (10, "succeeded", False),
    ]
    missed = LedgerEntry.objects.filter(action="checks.run.missed", payload__kind="drift")
    assert sorted(e.payload["window"][0][:10] for e in missed) == ["2025-01-06", "2025-01-07"]
    assert all("not checked within 48 h of its deadline" in e.payload["reason"] for e in missed)


def run_checks(*args: str) -> str:
    out = io.StringIO()
    call_command("run_checks", *args, stdout=out)
    return out.getvalue()


def test_run_checks_schedules_and_runs_a_date_range_in_process(model):
    output = run_checks(
        "--model", "card-fraud", "--from", "2025-01-02", "--to", "2025-01-03", "--kind", "drift"
    )
    runs = CheckRun.objects.order_by("window_start")
    assert [(r.window_start, r.status, r.origin) for r in runs] == [
        (utc(2025, 1, 2), "succeeded", "embedded"),
        (utc(2025, 1, 3), "succeeded", "embedded"),
    ]
    assert output.count("succeeded") == 2 and "card-fraud drift" in output
    assert run_checks("--model", "card-fraud", "--date", "2025-01-02", "--kind", "drift") == "nothing due\n"


def test_run_checks_redoes_a_missed_window_as_a_new_revision(model, settings):
    settings.FLEETWATCH_CHECK_MISSED_HORIZON_HOURS = 24
    fleet_sweep(now=utc(2025, 1, 5, 1), dispatch=None)
    missed = CheckRun.objects.get(kind=RunKind.DRIFT, window_start=utc(2025, 1, 1))
    assert missed.status == RunStatus.MISSED

    run_checks("--all", "--date", "2025-01-01", "--kind", "drift")
    redo = CheckRun.objects.get(supersedes=missed)
    assert (redo.revision, redo.status, redo.late, redo.origin) == (2, "succeeded", True, "embedded")
    entry = LedgerEntry.objects.get(action="checks.run.succeeded", payload__run=redo.pk)
    assert entry.actor_kind == "operator"  # run from the shell: the operator's name, not "system"


def test_run_checks_refuses_vague_or_wrong_arguments(model):
    with pytest.raises(CommandError):
        run_checks()
    with pytest.raises(CommandError, match="no model with slug nope"):
        run_checks("--model", "nope")
    with pytest.raises(CommandError, match="before --from"):
        run_checks("--all", "--from", "2025-01-03", "--to", "2025-01-01")
