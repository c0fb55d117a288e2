"""``manage.py recompute``: replay from the stored batches, a new revision, every difference."""

import io
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.core.management import call_command

from audit.ledger.models import LedgerEntry
from monitors.checks.models import CheckRun, FeatureResult, RunKind
from monitors.checks.services.execute import check_run_execute
from monitors.checks.services.sweep import fleet_sweep
from monitors.retention import retention_purge
from monitors.stats import ks as ks_module
from tests.monitors.checks.data import ingest_reference, ingest_window
from tests.monitors.checks.world import make_model

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def checked(storage_dir):
    """One succeeded drift run of card-fraud for 1 January 2025, and its production batch."""
    model = make_model("card-fraud")
    ingest_reference(model)
    batch = ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2), drift={"age": 0.8})
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None)
    run = CheckRun.objects.get(kind=RunKind.DRIFT)
    check_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.status_reason
    return run, batch


def recompute(run_id: int) -> str:
    out = io.StringIO()
    call_command("recompute", str(run_id), stdout=out)
    return out.getvalue()


def test_a_recompute_reproduces_the_run_with_zero_differences(checked):
    run, _ = checked
    output = recompute(run.pk)
    assert output.rstrip().endswith("\n0 differences"), output
    revision = CheckRun.objects.get(supersedes=run)
    assert (revision.revision, revision.origin, revision.status) == (2, "recompute", "succeeded")
    assert revision.data_sha256s == run.data_sha256s and revision.as_of_sequence == run.as_of_sequence
    assert FeatureResult.objects.filter(run=revision).count() == FeatureResult.objects.filter(run=run).count()
    entry = LedgerEntry.objects.get(action="checks.run.recomputed")
    assert entry.payload == {
        "run": revision.pk,
        "supersedes": run.pk,
        "revision": 2,
        "differences": 0,
        "detail": [],
    }
    run.refresh_from_db()
    assert run.status == "succeeded"  # the original is never touched


def test_a_batch_whose_stored_bytes_were_altered_shows_up_as_differences(checked, storage_dir):
    run, batch = checked
    path = storage_dir / batch.storage_name
    frame = pd.read_parquet(path)
    frame["income"] = frame["income"] * 2  # someone edits the stored file in place
    frame.to_parquet(path, index=False)

    output = recompute(run.pk)
    assert f"production batch {batch.pk}: stored bytes hash to" in output
    assert "feature univariate_drift income ks statistic:" in output
    assert not output.rstrip().endswith("\n0 differences")


def test_a_patched_statistic_in_the_recomputing_process_shows_up_as_differences(checked, monkeypatch):
    run, _ = checked
    original = ks_module.ks_statistics
    monkeypatch.setattr(ks_module, "ks_statistics", lambda *a, **k: original(*a, **k) * 1.25)

    output = recompute(run.pk)
    assert "feature univariate_drift age ks statistic:" in output
    assert "stored bytes" not in output  # the inputs are intact; the code is not
    before = FeatureResult.objects.get(run=run, feature="age", test="ks", segment="")
    after = FeatureResult.objects.get(run__supersedes=run, feature="age", test="ks", segment="")
    assert after.statistic == pytest.approx(before.statistic * 1.25)
    assert f"{before.statistic!r} -> {after.statistic!r}" in output


def test_recomputing_purged_inputs_names_the_purge_entry(checked):
    run, _ = checked
    (report,) = retention_purge(model=run.model)
    output = recompute(run.pk)
    assert f"ledger entry #{report.ledger_sequence}" in output and "purged under retention" in output
    assert not CheckRun.objects.filter(supersedes=run).exists()
    assert LedgerEntry.objects.get(action="checks.run.recompute_refused").payload["purge_entries"] == [
        report.ledger_sequence
    ]
