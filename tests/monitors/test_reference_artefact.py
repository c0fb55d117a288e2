"""The reference artefact (subsample, distributions, every holdout row) and the fitted-state cache:
built at ingest, named by the runs that read it, rebuilt to the same bytes, purged with its
reference, and fitted once per reference."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

from audit.ledger.models import LedgerEntry
from monitors.artefacts import reference_artefact_compute
from monitors.checks import stages
from monitors.checks.errors import InputsPurged
from monitors.checks.inputs import run_inputs_load
from monitors.checks.journal import RunJournal
from monitors.checks.models import CheckRun, RunKind, StageStatus
from monitors.checks.pinned import Pinned
from monitors.checks.services.execute import check_run_execute
from monitors.checks.services.sweep import fleet_sweep
from monitors.checks.stages.base import StageOutcome
from monitors.models import FittedState, ReferenceArtefact
from monitors.retention import retention_purge
from monitors.stats.confusion import confusion_matrix
from monitors.stats.fitted import FittedParams, StandardScaler
from monitors.stats.reference_artefact import ReferenceArtefact as EngineArtefact
from registry.documents.export import model_export
from registry.services import model_apply
from tests.monitors.checks.data import ingest_reference, ingest_window
from tests.monitors.checks.world import alice, make_model

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def stored_frame(storage_dir, batch) -> pd.DataFrame:
    return pd.read_parquet(storage_dir / batch.storage_name)


def stored_artefact(storage_dir, row: ReferenceArtefact) -> EngineArtefact:
    return EngineArtefact.from_bytes((storage_dir / row.storage_name).read_bytes())


@dataclass(frozen=True)
class ReadsTheArtefact:
    """A stage standing in for the stages to come that read the artefact (none reads it yet)."""

    name: str = "reads_the_artefact"

    def run(self, inputs, earlier) -> StageOutcome:
        artefact = inputs.reference_artefact()
        return StageOutcome(status=StageStatus.SUCCEEDED, findings={"holdout_rows": artefact.holdout.n})


@dataclass
class CountingScaler:
    """The standard scaler, counting how often it is actually fitted."""

    name: str = "counting_scaler"
    version: str = "1"
    fits: list[str] = field(default_factory=list)

    def fit(self, artefact: EngineArtefact) -> FittedParams:
        self.fits.append("fit")
        return StandardScaler().fit(artefact)


@pytest.fixture
def scheduled(storage_dir):
    """card-fraud with its reference and one day of production, and the drift run due for it."""
    model = make_model("card-fraud")
    reference = ingest_reference(model, rows=3000)
    ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2))
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None)
    return model, reference, CheckRun.objects.get(kind=RunKind.DRIFT)


@pytest.fixture
def reading_stage(monkeypatch):
    playbook = (*stages.PLAYBOOK[RunKind.DRIFT], ReadsTheArtefact())
    monkeypatch.setitem(stages.PLAYBOOK, RunKind.DRIFT, playbook)


def test_it_builds_the_artefact_when_a_reference_is_ingested(scheduled, storage_dir):
    _, reference, _ = scheduled
    row = ReferenceArtefact.objects.get(batch=reference)
    data = (storage_dir / row.storage_name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == row.artefact_sha256 == row.storage_name.split("/")[-1][:64]
    entry = LedgerEntry.objects.get(action="monitors.artefact.built")
    assert entry.payload["artefact_sha256"] == row.artefact_sha256
    assert data[:2] == b"PK"  # a zip of .npy members, read back with allow_pickle=False

    artefact = EngineArtefact.from_bytes(data)
    frame = stored_frame(storage_dir, reference)
    profiled = np.flatnonzero(frame["split"].to_numpy() != "holdout")
    assert artefact.subsample.n == min(5000, profiled.size) == artefact.n_profiled
    # row-aligned: each kept row is the stored Parquet's row at its row_index
    rows = frame.iloc[artefact.subsample.row_index]
    for name in ("income", "age", "target", "prediction", "score"):
        np.testing.assert_array_equal(artefact.subsample.columns[name], rows[name].to_numpy(dtype=float))
    assert list(artefact.subsample.columns["channel"]) == list(rows["channel"].astype(object))
    # the prediction's distribution is counts per value over the profiled rows
    prediction = artefact.distributions["prediction"]
    values, counts = np.unique(frame["prediction"].to_numpy()[profiled], return_counts=True)
    assert prediction.kind == "discrete"
    np.testing.assert_array_equal(prediction.values, values)
    np.testing.assert_array_equal(prediction.counts, counts)
    score = artefact.distributions["score"]
    assert score.kind == "histogram" and score.counts.sum() == profiled.size


def test_a_drift_run_does_not_read_the_artefact_and_a_stage_that_asks_names_it(scheduled):
    _, reference, run = scheduled
    row = ReferenceArtefact.objects.get(batch=reference)
    journal = RunJournal()
    inputs = run_inputs_load(run, pinned=None, journal=journal)
    assert inputs.reference_artefact_sha256 is None
    assert "reference_artefact_sha256" not in journal.read  # loading the inputs did not read it

    inputs.reference_artefact()
    assert inputs.reference_artefact_sha256 == row.artefact_sha256
    assert journal.read["reference_artefact_sha256"] == row.artefact_sha256  # handed to the run row


def test_the_runner_records_the_artefact_on_a_run_whose_stage_reads_it(scheduled, reading_stage):
    _, reference, run = scheduled
    check_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.status_reason
    assert run.reference_artefact_sha256 == ReferenceArtefact.objects.get(batch=reference).artefact_sha256


def test_a_plain_drift_run_records_no_artefact(scheduled):
    _, _, run = scheduled
    check_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.reference_artefact_sha256 == ""


def test_the_command_rebuilds_the_same_bytes(scheduled, storage_dir):
    _, reference, _ = scheduled
    row = ReferenceArtefact.objects.get(batch=reference)
    first = (storage_dir / row.storage_name).read_bytes()

    out = io.StringIO()
    call_command("build_reference_artefacts", "--model", "card-fraud", stdout=out)
    assert f"identical {row.artefact_sha256}" in out.getvalue()
    assert reference_artefact_compute(reference, row.schema).to_bytes() == first

    # a reference ingested before artefacts existed: the command builds it, to the same bytes
    (storage_dir / row.storage_name).unlink()
    row.delete()
    out = io.StringIO()
    call_command("build_reference_artefacts", stdout=out)
    rebuilt = ReferenceArtefact.objects.get(batch=reference)
    assert f"built {rebuilt.artefact_sha256}" in out.getvalue()
    assert (storage_dir / rebuilt.storage_name).read_bytes() == first


def test_a_recompute_that_needs_a_purged_artefact_is_refused_naming_the_purge(
    scheduled, reading_stage, storage_dir
):
    model, reference, run = scheduled
    check_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.reference_artefact_sha256

    retire_champion(model, at=utc(2025, 2, 1))
    (report,) = retention_purge(model=model, now=utc(2025, 2, 1) + timedelta(days=model.retention_days + 1))
    row = ReferenceArtefact.objects.get(batch=reference)
    assert row.purged_at is not None and row.pk in report.artefact_ids
    assert not (storage_dir / row.storage_name).exists()
    purge = LedgerEntry.objects.get(sequence=report.ledger_sequence)
    assert purge.payload["artefacts"] == [{"artefact": row.pk, "artefact_sha256": row.artefact_sha256}]

    with pytest.raises(InputsPurged) as refused:
        run_inputs_load(run, pinned=Pinned.of_run(run), journal=RunJournal())
    assert refused.value.ledger_sequences == [report.ledger_sequence]
    assert f"ledger entry #{report.ledger_sequence}" in str(refused.value)

    out = io.StringIO()
    call_command("recompute", str(run.pk), stdout=out)
    assert f"ledger entry #{report.ledger_sequence}" in out.getvalue()
    assert not CheckRun.objects.filter(supersedes=run).exists()


def retire_champion(model, *, at: datetime) -> None:
    """Retire v1 as its owner would, through the registry's one write path."""
    document = model_export(model)
    for entry in document["versions"]:
        if entry["label"] == "v1":
            entry.update({"status": "retired", "role": "", "retired_at": at})
    model_apply(document=document, user=alice())


def test_the_holdout_confusion_matrix_is_sklearns_over_every_holdout_row(scheduled, storage_dir):
    _, reference, _ = scheduled
    artefact = stored_artefact(storage_dir, ReferenceArtefact.objects.get(batch=reference))
    frame = stored_frame(storage_dir, reference)
    holdout = frame[frame["split"] == "holdout"]
    assert len(holdout) > 0
    assert artefact.holdout_rows == artefact.holdout.n == len(holdout) and not artefact.holdout_sampled
    np.testing.assert_array_equal(artefact.holdout.row_index, np.flatnonzero(frame["split"] == "holdout"))

    result = artefact.holdout_confusion()
    labels = sorted(set(holdout["target"]) | set(holdout["prediction"]))
    expected = sklearn_confusion_matrix(holdout["target"], holdout["prediction"], labels=labels)
    assert result.labels == tuple(labels)
    np.testing.assert_array_equal(result.matrix, expected)
    assert result.accuracy == pytest.approx((holdout["target"] == holdout["prediction"]).mean())


def test_the_confusion_matrix_is_sklearns_for_many_classes_with_missing_values():
    rng = np.random.default_rng(7)
    true = rng.choice(["ant", "bee", "cat", "dog"], 2000).astype(object)
    predicted = np.where(rng.random(2000) < 0.6, true, rng.choice(["ant", "bee", "cat", "eel"], 2000))
    predicted = predicted.astype(object)
    true[:10] = None
    result = confusion_matrix(true, predicted)
    keep = np.arange(2000) >= 10
    labels = ["ant", "bee", "cat", "dog", "eel"]
    expected = sklearn_confusion_matrix(true[keep].astype(str), predicted[keep].astype(str), labels=labels)
    assert result.labels == tuple(labels) and result.n_missing == 10 and result.n == 1990
    np.testing.assert_array_equal(result.matrix, expected)


def test_over_the_cap_the_holdout_is_a_seeded_sample_and_says_so(storage_dir, settings):
    settings.FLEETWATCH_REFERENCE_HOLDOUT_CAP = 100
    model = make_model("card-fraud")
    reference = ingest_reference(model, rows=2000)
    row = ReferenceArtefact.objects.get(batch=reference)
    artefact = stored_artefact(storage_dir, row)
    assert artefact.holdout.n == 100 < artefact.holdout_rows and artefact.holdout_sampled
    assert row.holdout_sampled and row.settings["holdout_cap"] == 100
    frame = stored_frame(storage_dir, reference)
    kept = frame.iloc[artefact.holdout.row_index]
    assert (kept["split"] == "holdout").all()
    np.testing.assert_array_equal(artefact.holdout.columns["target"], kept["target"].to_numpy(dtype=float))
    # seeded: the same reference gives the same sample
    assert reference_artefact_compute(reference, row.schema).to_bytes() == artefact.to_bytes()


def test_state_is_fitted_once_per_reference_and_read_from_the_cache_after(scheduled, storage_dir):
    _, reference, run = scheduled
    scaler = CountingScaler()
    first = run_inputs_load(run, pinned=None, journal=RunJournal()).fitted_state(scaler)
    second = run_inputs_load(run, pinned=None, journal=RunJournal()).fitted_state(scaler)
    assert scaler.fits == ["fit"]  # the second use hit the cache
    state = FittedState.objects.get(fitter="counting_scaler")
    assert state.artefact_sha256 == ReferenceArtefact.objects.get(batch=reference).artefact_sha256
    np.testing.assert_array_equal(first.arrays["mean"], second.arrays["mean"])

    # the numbers: means and population standard deviations of the subsample, from pandas
    artefact = stored_artefact(storage_dir, state.artefact)
    rows = stored_frame(storage_dir, reference).iloc[artefact.subsample.row_index]
    assert second.meta["features"] == ["income", "age", "utilisation", "tenure_months", "has_mortgage"]
    for i, name in enumerate(second.meta["features"]):
        values = rows[name].astype(float)
        assert second.arrays["mean"][i] == pytest.approx(values.mean())
        assert second.arrays["std"][i] == pytest.approx(values.std(ddof=0))

    # a new version of the fitter fits afresh, once
    scaler_v2 = CountingScaler(version="2")
    run_inputs_load(run, pinned=None, journal=RunJournal()).fitted_state(scaler_v2)
    run_inputs_load(run, pinned=None, journal=RunJournal()).fitted_state(scaler_v2)
    assert scaler_v2.fits == ["fit"] and FittedState.objects.count() == 2


def test_fitted_state_is_purged_with_its_artefact(scheduled, storage_dir):
    model, reference, run = scheduled
    row = ReferenceArtefact.objects.get(batch=reference)
    run_inputs_load(run, pinned=None, journal=RunJournal()).fitted_state(CountingScaler())
    state = FittedState.objects.get()
    retire_champion(model, at=utc(2025, 2, 1))
    retention_purge(model=model, now=utc(2025, 2, 1) + timedelta(days=model.retention_days + 1))
    state.refresh_from_db()
    assert state.purged_at is not None and not (storage_dir / state.storage_name).exists()
    assert row.pk in ReferenceArtefact.objects.filter(purged_at__isnull=False).values_list("pk", flat=True)
