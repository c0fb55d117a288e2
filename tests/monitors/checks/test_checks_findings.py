"""Findings as rows: what the stages flag becomes ``Finding`` rows with a kind from the vocabulary
and a severity, kept across revisions (updated or closed, never doubled), written once however
often a run's task is delivered."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from scipy import stats

from audit.ledger.models import LedgerEntry
from monitors.checks.models import CheckRun, FeatureResult, Finding, RunKind, Severity
from monitors.checks.services.claim import check_run_claim
from monitors.checks.services.execute import check_run_commit, check_run_execute, run_playbook
from monitors.checks.services.recompute import check_run_recompute
from monitors.checks.services.sweep import fleet_sweep
from monitors.checks.stages import PLAYBOOK, univariate_drift
from monitors.checks.stages.base import FindingDraft
from monitors.checks.stages.data_quality import ISSUE_KINDS
from monitors.ingest.services import batch_ingest
from registry.models import ExternalEvent
from simulation.synthetic import production_frame, reference_frame
from tests.monitors.checks.data import SERVING, ingest_reference, ingest_window
from tests.monitors.checks.world import FEATURES, WINDOW_ROWS, champion, make_model
from vocabulary.findings import FINDING_KINDS, SEVERITIES, UnknownFindingKind, severity_rank

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
DRIFT = {"income": 1.5}
MISSING = 0.3


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def window_frame(model, *, missing_share: float = MISSING) -> pd.DataFrame:
    return production_frame(
        FEATURES,
        rows=WINDOW_ROWS,
        seed=2,
        start=utc(2025, 1, 1),
        end=utc(2025, 1, 2),
        version_label=champion(model).label,
        record_prefix=f"{model.slug}-w",
        drift=DRIFT,
        missing_share=missing_share,
        version_column=settings.FLEETWATCH_VERSION_LABEL_COLUMN,
    )


def ingest_frame(model, frame: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    batch_ingest(model=model, kind="production", source=buffer, sender=SERVING, filename="production.parquet")


def campaign_for(model) -> ExternalEvent:
    event = ExternalEvent.objects.create(
        kind="campaign", title="New year cashback", starts_at=utc(2024, 12, 30), ends_at=utc(2025, 1, 1, 12)
    )
    event.affected_models.add(model)
    return event


def sweep_one(model) -> CheckRun:
    fleet_sweep(now=utc(2025, 1, 2, 1), dispatch=None, models=type(model).objects.filter(pk=model.pk))
    return CheckRun.objects.get(model=model, kind=RunKind.DRIFT)


@pytest.fixture
def flagged(storage_dir):
    """A succeeded drift run of card-fraud for 1 January 2025 whose window drifted in `income`,
    lost a share of its nullable columns and overlaps a campaign: every stage has a finding."""
    model = make_model("card-fraud")
    ingest_reference(model)
    frame = window_frame(model)
    ingest_frame(model, frame)
    event = campaign_for(model)
    run = sweep_one(model)
    assert check_run_execute(run_id=run.pk).result == "committed"
    run.refresh_from_db()
    assert run.status == "succeeded", run.status_reason
    return run, frame, event


def run_entry_of(run: CheckRun) -> Q:
    return Q(action="checks.run.succeeded", payload__run=run.pk)


def open_identities(run: CheckRun) -> set[tuple[str, str]]:
    return set(
        Finding.objects.filter(version=run.version, closed_at__isnull=True).values_list("kind", "subject")
    )


def test_each_stage_flags_become_findings_with_a_kind_and_a_severity(flagged):
    run, frame, event = flagged
    findings = Finding.objects.filter(run=run)
    assert findings.count() == Finding.objects.count()
    for finding in findings:
        assert finding.kind in FINDING_KINDS
        assert finding.severity == FINDING_KINDS[finding.kind].default_severity
        assert (finding.model, finding.version, finding.run_kind) == (run.model, run.version, "drift")
        assert (finding.window_start, finding.window_end) == (run.window_start, run.window_end)
        assert finding.is_open and finding.last_run == run and finding.revision == 1
        assert finding.source == "check_run"

    # drift: `income` moved 1.5 standard deviations; the same KS statistic as scipy on the rows
    income = findings.get(kind="drift.feature", subject="income")
    assert income.stage == "univariate_drift" and income.severity == "low"
    reference = reference_frame(FEATURES, rows=1000, seed=1)
    reference = reference[reference["split"] != "holdout"]
    expected = stats.ks_2samp(reference["income"].dropna(), frame["income"].dropna())
    assert income.numbers["test"] == "ks"
    assert income.numbers["statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    row = FeatureResult.objects.get(run=run, feature="income", segment="", parameters__role="primary")
    assert income.numbers["threshold"] == row.threshold and income.numbers["p_value"] == row.p_value
    assert not findings.filter(kind="drift.feature", subject="age").exists()
    assert findings.filter(kind="drift.share").exists() == bool(run.drift_detected)

    # data quality: every nullable numeric or categorical column lost about 30 % of its values
    lost = {f.name for f in FEATURES if f.nullable and f.kind in ("numeric", "categorical")}
    missing = {f.subject: f for f in findings.filter(kind="data_quality.missing_share")}
    assert set(missing) == lost
    for column, finding in missing.items():
        assert finding.stage == "data_quality" and finding.severity == "medium"
        assert finding.numbers["missing_share"] == pytest.approx(frame[column].isna().mean(), abs=1e-12)
        assert finding.numbers["reference_missing_share"] == 0.0
        assert finding.numbers["tolerance"] == 0.05
    assert not findings.filter(subject="age", kind__startswith="data_quality").exists()  # not nullable

    # correlate: the campaign overlaps the window with drift and quality findings
    correlation = findings.get(kind="correlation.event")
    assert correlation.subject == f"event:{event.pk}" and correlation.severity == "info"
    assert "income" in correlation.numbers["drifted_features"]
    assert set(correlation.numbers["flagged_quality"]) == lost
    assert 'coincide with campaign "New year cashback"' in correlation.note

    # the run's ledger entry counts them; it carries no entry per finding
    entry = LedgerEntry.objects.get(action="checks.run.succeeded")
    summary = entry.payload["findings"]
    assert summary["raised"] == summary["opened"] == findings.count() and summary["closed"] == 0
    assert summary["by_kind"]["data_quality.missing_share"] == len(lost)
    assert summary["by_kind"]["correlation.event"] == 1
    assert sum(summary["by_severity"].values()) == findings.count()
    assert not LedgerEntry.objects.filter(action__startswith="checks.finding").exists()


def test_a_recompute_updates_the_open_findings_instead_of_doubling_them(flagged):
    run, _, _ = flagged
    before = open_identities(run)
    count = Finding.objects.count()

    report = check_run_recompute(run_id=run.pk)
    assert report.differences == []  # reproduced bit for bit, findings included
    revision = report.revision
    assert revision is not None and revision.revision == 2

    assert Finding.objects.count() == count
    assert open_identities(run) == before
    for finding in Finding.objects.all():
        assert finding.is_open
        assert (finding.run, finding.last_run, finding.revision) == (run, revision, 2)
    first = LedgerEntry.objects.get(run_entry_of(run)).payload["findings"]
    second = LedgerEntry.objects.get(run_entry_of(revision)).payload["findings"]
    assert second == {**first, "opened": 0, "updated": count}


def test_a_revision_in_which_a_finding_no_longer_holds_closes_it(flagged, monkeypatch):
    """The drift stage stops flagging (as a corrected test would): the recompute closes the drift
    findings with the revision's name, and keeps the others open."""
    run, _, _ = flagged
    drift = set(Finding.objects.filter(stage="univariate_drift").values_list("kind", "subject"))
    assert ("drift.feature", "income") in drift
    monkeypatch.setattr(univariate_drift, "drift_drafts", lambda result: [])

    report = check_run_recompute(run_id=run.pk)
    revision = report.revision
    assert revision is not None
    assert "finding drift.feature income: no longer holds (closed by the recompute)" in report.differences

    closed = Finding.objects.filter(closed_at__isnull=False)
    assert set(closed.values_list("kind", "subject")) == drift
    for finding in closed:
        assert finding.closed_by_run == revision and finding.last_run == run
        assert finding.closed_reason == f"no longer holds in revision 2 (run #{revision.pk})"
    still = Finding.objects.filter(closed_at__isnull=True)
    assert still.exists() and all(f.revision == 2 and f.last_run == revision for f in still)
    assert LedgerEntry.objects.get(run_entry_of(revision)).payload["findings"]["closed"] == len(drift)

    # a third revision that flags the drift again opens a new finding beside the closed one
    monkeypatch.undo()
    third = check_run_recompute(run_id=revision.pk).revision
    assert third is not None
    reopened = Finding.objects.get(kind="drift.feature", subject="income", closed_at__isnull=True)
    assert (reopened.run, reopened.revision) == (third, 3)
    assert Finding.objects.filter(kind="drift.feature", subject="income").count() == 2


def test_an_event_moved_out_of_the_window_closes_its_correlation_on_recompute(flagged):
    run, _, event = flagged
    ExternalEvent.objects.filter(pk=event.pk).update(starts_at=utc(2024, 12, 1), ends_at=utc(2024, 12, 2))

    report = check_run_recompute(run_id=run.pk)
    assert f"finding correlation.event event:{event.pk}: no longer holds (closed by the recompute)" in (
        report.differences
    )
    finding = Finding.objects.get(kind="correlation.event")
    assert finding.closed_reason.startswith("no longer holds in revision 2")
    assert Finding.objects.filter(kind="drift.feature", subject="income", closed_at__isnull=True).exists()


def test_a_skipped_stage_leaves_its_findings_open(flagged, monkeypatch):
    """Skipped is not "no longer holds": a drift stage that could not run says nothing."""
    run, _, _ = flagged
    from monitors.checks.stages.base import StageOutcome

    monkeypatch.setattr(
        univariate_drift.UnivariateDriftStage, "run", lambda self, inputs, earlier: StageOutcome.skipped("no")
    )
    check_run_recompute(run_id=run.pk)
    assert not Finding.objects.filter(closed_at__isnull=False).exists()
    income = Finding.objects.get(kind="drift.feature", subject="income")
    assert income.revision == 1  # not seen in revision 2, not closed by it either


def test_a_duplicated_delivery_writes_the_findings_once(storage_dir):
    model = make_model("card-fraud")
    ingest_reference(model)
    ingest_window(model, start=utc(2025, 1, 1), end=utc(2025, 1, 2), drift=DRIFT)
    run = sweep_one(model)

    # attempt 1 computes, then stalls past its lease; attempt 2 claims and commits
    stale = check_run_claim(
        run_id=run.pk, now=utc(2025, 1, 2, 2), lease=timedelta(minutes=10), host="worker-a", pid=101
    )
    stale_results = run_playbook(run)
    fresh = check_run_execute(run_id=run.pk, now=utc(2025, 1, 2, 2, 11), lease=timedelta(minutes=10))
    assert fresh.result == "committed"
    written = sorted(Finding.objects.values_list("kind", "subject", "last_run", "revision"))
    assert ("drift.feature", "income", run.pk, 1) in written

    # the same message delivered again, and the stale attempt waking up: neither writes a finding
    assert check_run_execute(run_id=run.pk).result == "final"
    assert check_run_commit(run=run, claim=stale, computed=stale_results) is False
    assert sorted(Finding.objects.values_list("kind", "subject", "last_run", "revision")) == written
    assert LedgerEntry.objects.filter(action="checks.run.succeeded").count() == 1


def test_the_database_refuses_a_second_open_finding_with_the_same_identity(flagged):
    finding = Finding.objects.get(kind="drift.feature", subject="income")
    copy = Finding.objects.get(pk=finding.pk)
    copy.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    # closed, it may sit beside an open one with the same identity
    copy.closed_at, copy.closed_reason = finding.opened_at, "test"
    copy.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.filter(pk=copy.pk).update(closed_reason="")  # a closed finding says why


# --- the vocabulary and the stages in step ----------------------------------------------------


def _kinds_named_in_stages() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "monitors" / "checks" / "stages").glob("*.py"):
        names |= set(re.findall(r'kind="([a-z_]+\.[a-z_]+)"', path.read_text()))
    return names | set(ISSUE_KINDS.values())


def test_every_kind_a_stage_raises_is_in_the_table_and_every_kind_in_the_table_is_raised():
    assert _kinds_named_in_stages() == set(FINDING_KINDS)
    for kind in FINDING_KINDS.values():
        assert kind.meaning and kind.default_severity in SEVERITIES
        assert kind.name.split(".")[0] in ("data_quality", "drift", "correlation")


def test_every_issue_the_statistics_engine_flags_has_a_finding_kind():
    source = (ROOT / "monitors" / "stats" / "quality.py").read_text()
    assert set(re.findall(r'issues\.append\("(\w+)"\)', source)) == set(ISSUE_KINDS)


def test_every_playbook_stage_of_the_drift_run_is_one_that_raises_findings():
    assert [s.name for s in PLAYBOOK[RunKind.DRIFT]] == [
        "data_quality",
        "univariate_drift",
        "event_correlation",
    ]


def test_a_draft_of_an_unknown_kind_is_refused_and_severity_defaults_per_kind():
    with pytest.raises(UnknownFindingKind, match=r"vocabulary/findings\.py"):
        FindingDraft(kind="drift.everything")
    assert FindingDraft(kind="drift.share").severity == "high"
    assert FindingDraft(kind="drift.share", severity="critical").severity == "critical"


def test_the_severity_scale_is_one_ordered_list():
    assert tuple(Severity.values) == SEVERITIES == ("info", "low", "medium", "high", "critical")
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2, 3, 4]
    assert sorted(["high", "info", "critical", "low"], key=severity_rank) == [
        "info",
        "low",
        "high",
        "critical",
    ]


def test_the_admin_shows_a_runs_findings_and_lists_them_read_only(admin_client, flagged):
    run, _, _ = flagged
    page = admin_client.get(f"/admin/checks/checkrun/{run.pk}/change/")
    assert page.status_code == 200 and b"findings last seen in this run" in page.content.lower()
    assert b"data_quality.missing_share" in page.content
    listing = admin_client.get("/admin/checks/finding/", {"state": "open", "severity": "medium"})
    assert listing.status_code == 200
    shown = {f.pk for f in listing.context["cl"].result_list}
    assert shown == set(Finding.objects.filter(severity="medium").values_list("pk", flat=True))
    assert admin_client.get("/admin/checks/finding/", {"state": "closed"}).context["cl"].result_count == 0
    finding = Finding.objects.first()
    assert b"Save" not in admin_client.get(f"/admin/checks/finding/{finding.pk}/change/").content
    assert admin_client.get("/admin/checks/finding/add/").status_code == 403
