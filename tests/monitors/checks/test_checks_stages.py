"""Stages are plug-ins over frozen inputs: a stage defined here, added to the drift playbook for
the test, runs in a real check run, is saved as a stage record, adds to the run's headline, and
is reproduced by ``recompute`` with no difference."""

import operator
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from types import MappingProxyType

import numpy as np
import pytest

from audit.ledger.models import LedgerEntry
from monitors.checks import stages
from monitors.checks.models import CheckRun, MetricResult, RunKind, StageRecord, StageStatus
from monitors.checks.run_inputs import RunInputs
from monitors.checks.services.execute import check_run_execute
from monitors.checks.services.recompute import check_run_recompute
from monitors.checks.services.sweep import fleet_sweep
from monitors.checks.stages.base import Earlier, HeadlineConflict, StageOutcome, headline_merged
from monitors.checks.stages.data_quality import DataQualityStage
from simulation.synthetic import production_frame
from tests.monitors.checks.data import ingest_reference, ingest_window
from tests.monitors.checks.world import FEATURES, WINDOW_ROWS, make_model

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class SeniorsStage:
    """A toy stage: counts the window's applicants aged 65 or more."""

    name = "seniors"

    def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
        seniors = int(np.count_nonzero(np.asarray(inputs.columns["age"], dtype=float) >= 65))
        return StageOutcome(
            status=StageStatus.SUCCEEDED,
            findings={
                "seniors": seniors,
                "earlier": list(earlier),
                "earlier_is_read_only": isinstance(earlier, MappingProxyType),
                "drift_detected_before_me": earlier["univariate_drift"].findings["drift_detected"],
            },
            metric_results=(
                MetricResult(stage=self.name, feature="age", metric="seniors", value=float(seniors)),
            ),
            headline={"summary": {"seniors": seniors}},
        )


def with_stage(monkeypatch: pytest.MonkeyPatch, *extra: object, replace: bool = False) -> None:
    playbook = () if replace else stages.PLAYBOOK[RunKind.DRIFT]
    monkeypatch.setitem(stages.PLAYBOOK, RunKind.DRIFT, (*playbook, *extra))


def drift_run(slug: str = "card-fraud", *, rows: int = WINDOW_ROWS) -> CheckRun:
    model = make_model(slug)
    ingest_reference(model)
    ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2), rows=rows, drift={"income": 1.5})
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None)
    run = CheckRun.objects.get(kind=RunKind.DRIFT)
    check_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def seniors_in_the_window() -> int:
    """Regenerated here from the seeds the window was ingested with, not read back."""
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
    return int((window["age"] >= 65).sum())


def test_a_stage_added_to_the_playbook_runs_is_recorded_and_joins_the_headline(storage_dir, monkeypatch):
    with_stage(monkeypatch, SeniorsStage())
    expected = seniors_in_the_window()
    assert 0 < expected < WINDOW_ROWS

    run = drift_run()

    assert run.status == "succeeded", run.status_reason
    records = StageRecord.objects.filter(run=run).order_by("position")
    assert [r.name for r in records] == ["data_quality", "univariate_drift", "event_correlation", "seniors"]
    toy = records.get(name="seniors")
    assert (toy.status, toy.position) == ("succeeded", 3)
    assert toy.findings == {
        "seniors": expected,
        "earlier": ["data_quality", "univariate_drift", "event_correlation"],
        "earlier_is_read_only": True,
        "drift_detected_before_me": True,
    }
    assert MetricResult.objects.get(run=run, stage="seniors").value == expected
    # the toy's headline joins the others': the summary holds every stage's keys
    assert run.summary["seniors"] == expected
    assert run.summary["n_rows"] == WINDOW_ROWS and "income" in run.summary["drifted_features"]
    assert run.drift_detected is True
    stages_in_ledger = LedgerEntry.objects.get(action="checks.run.succeeded").payload["stages"]
    assert stages_in_ledger[-1] == {
        "name": "seniors",
        "status": "succeeded",
        "reason": "",
        "findings": toy.findings,
    }


def test_recompute_reproduces_the_added_stage_with_no_difference(storage_dir, monkeypatch):
    with_stage(monkeypatch, SeniorsStage())
    run = drift_run()

    report = check_run_recompute(run_id=run.pk)

    assert report.differences == []
    revision = report.revision
    assert revision is not None and revision.status == "succeeded"
    assert revision.summary == run.summary and revision.summary["seniors"] == seniors_in_the_window()
    again = StageRecord.objects.get(run=revision, name="seniors")
    assert again.findings == StageRecord.objects.get(run=run, name="seniors").findings
    assert MetricResult.objects.get(run=revision, stage="seniors").value == seniors_in_the_window()


def test_the_headline_comes_from_whichever_stages_give_one(storage_dir, monkeypatch):
    """No stage name is wired into the runner: a playbook without the drift stage still gets its
    drift columns from the stage that supplies them."""

    class VerdictStage:
        name = "verdict"

        def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
            return StageOutcome(
                status=StageStatus.SUCCEEDED, headline={"drift_share": 0.25, "drift_detected": False}
            )

    with_stage(monkeypatch, DataQualityStage(), VerdictStage(), replace=True)
    run = drift_run()

    assert run.status == "succeeded", run.status_reason
    assert (run.drift_share, run.drift_detected) == (0.25, False)
    assert run.summary == {"n_rows": WINDOW_ROWS}  # data_quality's contribution


def test_a_skipped_stage_says_why_and_adds_nothing_to_the_headline(storage_dir, monkeypatch):
    class NeedsLabels:
        name = "needs_labels"

        def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
            return StageOutcome.skipped("because a drift run reads no labels", n_labels=0)

    with_stage(monkeypatch, NeedsLabels())
    run = drift_run()

    assert run.status == "succeeded", run.status_reason
    record = StageRecord.objects.get(run=run, name="needs_labels")
    assert (record.status, record.reason, record.findings) == (
        "skipped",
        "because a drift run reads no labels",
        {"n_labels": 0},
    )
    assert set(run.summary) == {"n_rows", "drifted_features", "n_features", "n_skipped"}


@pytest.mark.parametrize(
    ("mischief", "error"),
    [
        (lambda inputs, earlier: setattr(inputs, "n_rows", 0), FrozenInstanceError.__name__),
        (lambda inputs, earlier: earlier.pop("data_quality"), "AttributeError"),
        (lambda inputs, earlier: operator.setitem(earlier, "data_quality", None), "TypeError"),
    ],
    ids=["inputs", "earlier-pop", "earlier-set"],
)
def test_a_stage_that_tries_to_change_what_it_was_given_fails_on_record(
    storage_dir, monkeypatch, mischief, error
):
    class Meddler:
        name = "meddler"

        def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
            mischief(inputs, earlier)
            return StageOutcome(status=StageStatus.SUCCEEDED)

    with_stage(monkeypatch, Meddler())
    run = drift_run()

    assert run.status == "failed" and run.status_reason.startswith(f"stage(s) failed: meddler ({error}")
    statuses = dict(StageRecord.objects.filter(run=run).values_list("name", "status"))
    assert statuses == {
        "data_quality": "succeeded",
        "univariate_drift": "succeeded",
        "event_correlation": "succeeded",
        "meddler": "failed",
    }
    assert run.summary["n_rows"] == WINDOW_ROWS  # the other stages' headline stands


def test_a_stage_may_not_set_a_headline_column_another_stage_set(storage_dir, monkeypatch):
    class SecondOpinion:
        name = "second_opinion"

        def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
            return StageOutcome(status=StageStatus.SUCCEEDED, headline={"drift_share": 0.0})

    with_stage(monkeypatch, SecondOpinion())
    run = drift_run()

    assert run.status == "failed"
    assert "second_opinion (HeadlineConflict: stage second_opinion: headline column 'drift_share'" in (
        run.status_reason
    )
    assert run.drift_share is not None and run.drift_share != 0.0  # univariate_drift's, kept


def test_headlines_merge_summaries_and_refuse_what_is_not_a_headline_column():
    merged = headline_merged({"summary": {"n_rows": 10}}, "b", {"drift_share": 0.5, "summary": {"x": 1}})
    assert merged == {"summary": {"n_rows": 10, "x": 1}, "drift_share": 0.5}
    with pytest.raises(HeadlineConflict, match="'status' is not a headline column"):
        headline_merged({}, "c", {"status": "succeeded"})
    with pytest.raises(HeadlineConflict, match="summary key"):
        headline_merged(merged, "d", {"summary": {"x": 2}})
