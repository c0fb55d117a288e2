"""The sweep, the claim and the reconciler, in-process against the real database."""

from datetime import UTC, datetime, timedelta

import pytest

from audit.ledger.models import LedgerEntry
from monitors.checks.models import CheckRun, RunKind, RunStatus
from monitors.checks.services.claim import Claim, Refusal, check_run_claim
from monitors.checks.services.execute import ComputedRun, check_run_commit
from monitors.checks.services.reconcile import checks_reconcile
from monitors.checks.services.sweep import fleet_sweep
from registry.documents.export import model_export
from registry.services import model_apply
from tests.monitors.checks.world import make_model

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def actions(prefix: str = "checks.") -> list[str]:
    return list(
        LedgerEntry.objects.filter(action__startswith=prefix)
        .order_by("sequence")
        .values_list("action", flat=True)
    )


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """A dispatch that records what the services hand to the broker. The test's transaction never
    commits, so ``sweep``/``reconcile`` below run the on-commit callbacks as a commit would."""

    class Sent(list):
        def __call__(self, run_id: int) -> None:
            self.append(run_id)

        def committing(self):
            return django_capture_on_commit_callbacks(execute=True)

    return Sent()


def sweep(sent, **kwargs):
    with sent.committing():
        return fleet_sweep(dispatch=sent, **kwargs)


def reconcile(sent, **kwargs):
    with sent.committing():
        return checks_reconcile(dispatch=sent, **kwargs)


def test_the_sweep_writes_every_closed_window_once_oldest_first(sent):
    make_model("card-fraud")
    report = sweep(sent, now=utc(2025, 1, 4, 1))

    runs = CheckRun.objects.order_by("pk")
    drift = [r.window_start for r in runs if r.kind == RunKind.DRIFT]
    assert drift == [utc(2025, 1, 1), utc(2025, 1, 2), utc(2025, 1, 3)]
    assert runs.filter(kind=RunKind.PERFORMANCE).count() == 3  # label maturity 0 in this plan
    assert {r.status for r in runs} == {RunStatus.SCHEDULED}
    assert len(report.scheduled) == 6
    assert actions() == ["checks.run.scheduled"] * 6

    again = sweep(sent, now=utc(2025, 1, 4, 2))
    assert again.scheduled == [] and CheckRun.objects.count() == 6


def test_runs_are_enqueued_only_after_the_rows_are_committed(django_capture_on_commit_callbacks):
    make_model("card-fraud")
    sent: list[int] = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=sent.append)
        assert sent == []  # nothing left for the broker while the transaction could roll back
    for callback in callbacks:
        callback()
    assert sorted(sent) == sorted(CheckRun.objects.values_list("pk", flat=True))


def test_a_run_scheduled_after_its_deadline_is_late(sent):
    make_model("on-time", grace_hours=6)
    make_model("behind", grace_hours=6)
    sweep(sent, now=utc(2025, 1, 2, 5), models=_models("on-time"))
    sweep(sent, now=utc(2025, 1, 2, 7), models=_models("behind"))
    on_time = CheckRun.objects.get(model__slug="on-time", kind=RunKind.DRIFT)
    behind = CheckRun.objects.get(model__slug="behind", kind=RunKind.DRIFT)
    assert on_time.deadline == utc(2025, 1, 2, 6) and not on_time.late
    assert behind.late


def test_performance_windows_wait_for_label_maturity(sent):
    make_model("mortgage-pd", performance_window_days=7, label_maturity_days=30)
    sweep(sent, now=utc(2025, 2, 1))
    assert not CheckRun.objects.filter(kind=RunKind.PERFORMANCE).exists()
    sweep(sent, now=utc(2025, 2, 8))
    performance = CheckRun.objects.get(kind=RunKind.PERFORMANCE)
    # The 7-day grid is anchored on 1970-01-01 (a Thursday): 2025-01-02 starts a window.
    assert (performance.window_start, performance.window_end) == (utc(2025, 1, 2), utc(2025, 1, 9))
    assert performance.due_at == utc(2025, 2, 8)


def test_windows_past_the_horizon_are_recorded_missed(sent, settings):
    settings.FLEETWATCH_CHECK_MISSED_HORIZON_HOURS = 48
    make_model("card-fraud", grace_hours=6)
    report = sweep(sent, now=utc(2025, 1, 6, 1))
    drift = CheckRun.objects.filter(kind=RunKind.DRIFT).order_by("window_start")
    # Windows 1..5 January, deadlines 2..6 January 06:00. With a 48 h horizon, at 01:00 on
    # 6 January the windows of 1 and 2 January are lost; 3 and 4 January are caught up late.
    assert [r.status for r in drift] == ["missed", "missed", "scheduled", "scheduled", "scheduled"]
    assert [r.late for r in drift] == [True, True, True, True, False]
    missed = LedgerEntry.objects.filter(action="checks.run.missed")
    assert missed.count() == len(report.missed) == 4  # drift and performance
    assert "not checked within 48 h" in missed.first().payload["reason"]
    assert set(sent) == set(CheckRun.objects.filter(status=RunStatus.SCHEDULED).values_list("pk", flat=True))


def test_a_first_sweep_looks_back_a_bounded_time_then_every_window_follows(sent, settings):
    settings.FLEETWATCH_CHECK_FIRST_LOOKBACK_DAYS = 10
    make_model("served-for-years", deployed_at=utc(2023, 1, 1))
    sweep(sent, now=utc(2025, 1, 20, 1))
    drift = CheckRun.objects.filter(kind=RunKind.DRIFT).order_by("window_start")
    # Not two years of missed windows: the series starts in the window holding "10 days before
    # now" (10 January 01:00), and runs up to the last closed window.
    assert drift.first().window_start == utc(2025, 1, 10)
    assert drift.last().window_end == utc(2025, 1, 20) and drift.count() == 10

    sweep(sent, now=utc(2025, 1, 24, 1))  # afterwards nothing is skipped, whatever the gap
    later = CheckRun.objects.filter(kind=RunKind.DRIFT).order_by("window_start")
    assert [r.window_start.day for r in later][-4:] == [20, 21, 22, 23] and later.count() == 14


def test_a_model_without_a_production_version_has_nothing_due(sent):
    model = make_model("retired")
    document = model_export(model)
    document["versions"][0].update(status="retired", role="")  # retired now, by alice
    model_apply(document=document, user=model.owner)
    assert sweep(sent, now=utc(2025, 1, 9)).scheduled == []


def _models(slug):
    from registry.models import MonitoredModel

    return MonitoredModel.objects.filter(slug=slug)


# --- claims -------------------------------------------------------------------------------------


def _one_run(sent) -> CheckRun:
    make_model("card-fraud")
    sweep(sent, now=utc(2025, 1, 2, 1))
    return CheckRun.objects.get(kind=RunKind.PERFORMANCE)


def test_a_second_claim_finds_the_run_taken(sent):
    run = _one_run(sent)
    now = utc(2025, 1, 2, 2)
    first = check_run_claim(run_id=run.pk, now=now, lease=timedelta(minutes=5), host="w1", pid=11)
    second = check_run_claim(run_id=run.pk, now=now + timedelta(seconds=1), lease=timedelta(minutes=5))
    assert isinstance(first, Claim) and first.attempt == 1
    assert isinstance(second, Refusal) and second.held
    run.refresh_from_db()
    assert (run.status, run.attempt, run.worker_host, run.worker_pid) == ("running", 1, "w1", 11)


def test_a_claim_after_the_lease_expired_is_attempt_two(sent):
    run = _one_run(sent)
    now = utc(2025, 1, 2, 2)
    check_run_claim(run_id=run.pk, now=now, lease=timedelta(minutes=5))
    retry = check_run_claim(run_id=run.pk, now=now + timedelta(minutes=5), lease=timedelta(minutes=5))
    assert isinstance(retry, Claim) and retry.attempt == 2


def test_a_stale_attempt_commits_nothing(sent):
    run = _one_run(sent)
    now = utc(2025, 1, 2, 2)
    stale = check_run_claim(run_id=run.pk, now=now, lease=timedelta(minutes=5))
    fresh = check_run_claim(run_id=run.pk, now=now + timedelta(minutes=6), lease=timedelta(minutes=5))
    assert isinstance(stale, Claim) and isinstance(fresh, Claim)

    assert check_run_commit(run=run, claim=fresh, computed=ComputedRun(status="skipped", reason="fresh"))
    before = LedgerEntry.objects.count()
    assert not check_run_commit(run=run, claim=stale, computed=ComputedRun(status="failed", reason="stale"))
    run.refresh_from_db()
    assert (run.status, run.status_reason, run.attempt) == ("skipped", "fresh", 2)
    assert LedgerEntry.objects.count() == before


def test_a_finished_run_cannot_be_claimed_again(sent):
    run = _one_run(sent)
    claim = check_run_claim(run_id=run.pk, now=utc(2025, 1, 2, 2), lease=timedelta(minutes=5))
    check_run_commit(run=run, claim=claim, computed=ComputedRun(status="skipped", reason="x"))
    refusal = check_run_claim(run_id=run.pk, now=utc(2025, 1, 3), lease=timedelta(minutes=5))
    assert isinstance(refusal, Refusal) and refusal.status == "skipped" and not refusal.held


# --- the reconciler -------------------------------------------------------------------------------


def test_the_reconciler_resends_runs_left_scheduled_or_with_an_expired_lease(sent):
    make_model("card-fraud")
    sweep(sent, now=utc(2025, 1, 3, 1))
    sent.clear()
    drift = list(CheckRun.objects.filter(kind=RunKind.DRIFT).order_by("window_start"))
    check_run_claim(run_id=drift[0].pk, now=utc(2025, 1, 3, 1, 1), lease=timedelta(minutes=5))

    quiet = reconcile(sent, now=utc(2025, 1, 3, 1, 5), requeue_after=timedelta(minutes=15))
    assert quiet.requeued == [] and sent == []

    report = reconcile(sent, now=utc(2025, 1, 3, 1, 20), requeue_after=timedelta(minutes=15))
    assert set(report.requeued) == set(CheckRun.objects.values_list("pk", flat=True))
    assert set(sent) == set(report.requeued)
    requeued = LedgerEntry.objects.filter(action="checks.run.requeued")
    reasons = {e.payload["run"]: e.payload["reason"] for e in requeued}
    assert reasons[drift[0].pk] == "lease expired" and reasons[drift[1].pk] == "left scheduled"

    # Sent again: nothing more until the requeue delay has passed once more.
    assert reconcile(sent, now=utc(2025, 1, 3, 1, 21)).requeued == []


def test_the_reconciler_records_a_run_stuck_past_the_horizon_as_missed(sent, settings):
    settings.FLEETWATCH_CHECK_MISSED_HORIZON_HOURS = 24
    make_model("card-fraud")
    sweep(sent, now=utc(2025, 1, 2, 1))
    report = reconcile(sent, now=utc(2025, 1, 3, 7))
    assert len(report.missed) == 2 and report.requeued == []
    assert set(CheckRun.objects.values_list("status", flat=True)) == {"missed"}
    assert LedgerEntry.objects.filter(action="checks.run.missed").count() == 2
