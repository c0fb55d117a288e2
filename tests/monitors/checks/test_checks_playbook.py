"""The playbook end to end in-process: real batches through the data plane, the statistics
engine, one transaction for results, status and ledger."""

from datetime import UTC, datetime

import pytest
from scipy import stats

from audit.ledger.models import LedgerEntry
from monitors.checks.models import CheckRun, FeatureResult, MetricResult, RunKind, StageRecord
from monitors.checks.services.execute import check_run_execute
from monitors.checks.services.sweep import fleet_sweep
from simulation.synthetic import production_frame, reference_frame
from tests.monitors.checks.data import ingest_reference, ingest_window
from tests.monitors.checks.world import FEATURES, WINDOW_ROWS, make_model

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_drift_run_walks_the_playbook_and_records_every_number(storage_dir):
    model = make_model("card-fraud")
    ingest_reference(model)
    batch = ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2), drift={"income": 1.5})
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None)
    run = CheckRun.objects.get(kind=RunKind.DRIFT)

    outcome = check_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert outcome.result == "committed", run.status_reason
    assert run.status == "succeeded", run.status_reason
    assert run.data_sha256s == [batch.stored_sha256]
    assert run.n_rows == WINDOW_ROWS and run.attempt == 1
    assert [s.name for s in StageRecord.objects.filter(run=run)] == [
        "data_quality",
        "univariate_drift",
        "event_correlation",
    ]
    income = FeatureResult.objects.get(run=run, feature="income", segment="", parameters__role="primary")
    assert income.test == "ks" and income.drifted
    # The same number from scipy on the same rows, regenerated here from the same seeds.
    reference = reference_frame(FEATURES, rows=1000, seed=1)
    reference = reference[reference["split"] != "holdout"]
    window = production_frame(
        FEATURES,
        rows=WINDOW_ROWS,
        seed=2,
        start=utc(2025, 1, 1),
        end=utc(2025, 1, 2),
        version_label="v1",
        record_prefix="x",
        drift={"income": 1.5},
    )
    expected = stats.ks_2samp(reference["income"], window["income"])
    assert income.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert income.p_value == pytest.approx(expected.pvalue, rel=1e-3)
    assert income.n_reference == len(reference) and income.n_window == WINDOW_ROWS
    assert "income" in run.summary["drifted_features"]
    assert MetricResult.objects.filter(run=run, metric="missing_share").count() == 6
    entry = LedgerEntry.objects.get(action="checks.run.succeeded")
    assert entry.payload["run"] == run.pk and entry.payload["data_sha256s"] == [batch.stored_sha256]


def test_an_attempt_paused_past_its_lease_commits_nothing_when_it_resumes(storage_dir):
    """Attempt 1 computes its results, then stalls (a frozen VM, a long GC pause) past its lease;
    attempt 2 claims the run and finishes. When attempt 1 resumes, its commit finds the claim
    gone and writes nothing: no status, no result rows, no ledger entry."""
    from datetime import timedelta

    from monitors.checks.services.claim import check_run_claim
    from monitors.checks.services.execute import check_run_commit, run_playbook

    model = make_model("card-fraud")
    ingest_reference(model)
    ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2))
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None)
    run = CheckRun.objects.get(kind=RunKind.DRIFT)

    stale = check_run_claim(
        run_id=run.pk, now=utc(2025, 1, 2, 2), lease=timedelta(minutes=10), host="worker-a", pid=101
    )
    stale_results = run_playbook(run)  # ... and then attempt 1 stops for a long while

    fresh = check_run_execute(
        run_id=run.pk, now=utc(2025, 1, 2, 2, 11), lease=timedelta(minutes=10), host="worker-b", pid=202
    )
    assert (fresh.result, fresh.attempt) == ("committed", 2)
    rows = FeatureResult.objects.filter(run=run).count()
    entries = LedgerEntry.objects.count()

    assert check_run_commit(run=run, claim=stale, computed=stale_results) is False
    run.refresh_from_db()
    assert (run.status, run.attempt, run.worker_host, run.worker_pid) == ("succeeded", 2, "worker-b", 202)
    assert FeatureResult.objects.filter(run=run).count() == rows
    assert LedgerEntry.objects.count() == entries
    assert LedgerEntry.objects.get(action="checks.run.succeeded").payload["attempt"] == 2


def test_findings_are_matched_with_external_events_in_the_window(storage_dir):
    from monitors.checks.models import EventCorrelation
    from registry.models import ExternalEvent

    model = make_model("card-fraud")
    other = make_model("mortgage-pd")
    ingest_reference(model)
    ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2), drift={"income": 1.5})
    campaign = ExternalEvent.objects.create(
        kind="campaign", title="New year cashback", starts_at=utc(2024, 12, 30), ends_at=utc(2025, 1, 1, 12)
    )
    campaign.affected_models.add(model)
    outage = ExternalEvent.objects.create(
        kind="pipeline_change", title="Feature store migration", starts_at=utc(2025, 1, 1, 20)
    )  # fleet-wide, still running
    elsewhere = ExternalEvent.objects.create(
        kind="campaign", title="Mortgage fair", starts_at=utc(2025, 1, 1), ends_at=utc(2025, 1, 2)
    )
    elsewhere.affected_models.add(other)
    ExternalEvent.objects.create(
        kind="other", title="Over before the window", starts_at=utc(2024, 12, 1), ends_at=utc(2025, 1, 1)
    )
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None, models=type(model).objects.filter(pk=model.pk))
    run = CheckRun.objects.get(kind=RunKind.DRIFT)
    check_run_execute(run_id=run.pk)

    matches = EventCorrelation.objects.filter(run=run).order_by("event__starts_at")
    assert [m.event for m in matches] == [campaign, outage]
    assert "income" in matches[0].drifted_features
    assert 'coincide with campaign "New year cashback"' in matches[0].note
    assert "drift in `income`" in matches[0].note


def test_inputs_that_cannot_be_read_fail_the_run_on_record_and_the_next_run_still_runs(
    storage_dir, monkeypatch
):
    from monitors.checks import inputs

    broken, healthy = make_model("broken-inputs"), make_model("healthy-inputs")
    for model in (broken, healthy):
        ingest_reference(model)
        ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2))
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None)
    read_window = inputs.window

    def window_failing_for_one_model(run, *args, **kwargs):
        if run.model_id == broken.pk:
            raise KeyError("batch 1 has no column(s) ['income_v2']")  # a reader bug, say
        return read_window(run, *args, **kwargs)

    monkeypatch.setattr(inputs, "window", window_failing_for_one_model)
    runs = CheckRun.objects.filter(kind=RunKind.DRIFT).order_by("model__slug")
    outcomes = [check_run_execute(run_id=run.pk) for run in runs]

    assert [o.result for o in outcomes] == ["committed", "committed"]
    failed, succeeded = (CheckRun.objects.get(pk=run.pk) for run in runs)
    assert failed.status == "failed" and "KeyError" in failed.status_reason
    assert succeeded.status == "succeeded"
    assert LedgerEntry.objects.filter(action="checks.run.failed", subject_id=str(failed.pk)).exists()
