"""Executing a run: claim, walk the playbook, commit only while the claim still holds.

``check_run_execute`` is what the Celery task and ``run_checks`` both call. The playbook is
computed outside any transaction (it reads storage and may take a while); the commit is one
short transaction that first re-checks the claim with a compare-and-set and then writes status,
result rows, findings and the ledger entry, in that order, so that either all of it is there or
none — a duplicated or retried task cannot double a finding, because only one attempt commits.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from audit.ledger import record
from monitors.checks import inputs as loader
from monitors.checks.errors import InputsUnavailable
from monitors.checks.journal import RunJournal
from monitors.checks.models import (
    CheckRun,
    EventCorrelation,
    FeatureResult,
    MetricResult,
    RunOrigin,
    RunStatus,
    StageRecord,
    StageStatus,
)
from monitors.checks.pinned import Pinned
from monitors.checks.services.claim import Claim, Refusal, check_run_claim, check_run_release
from monitors.checks.services.findings import FindingChanges, findings_commit
from monitors.checks.services.provenance import code_version, library_versions
from monitors.checks.stages import playbook_for
from monitors.checks.stages.base import StageOutcome, headline_merged
from vocabulary import ledger_actions

logger = logging.getLogger(__name__)

# Worth another try later: the database or the broker was unreachable. Bad data never is.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
try:
    from kombu.exceptions import OperationalError as BrokerOperationalError

    TRANSIENT_ERRORS += (BrokerOperationalError,)
except ImportError:  # pragma: no cover - kombu comes with celery
    pass
# Not the data's fault either: the attempt gives its claim back and stops; the reconciler resends.
INTERRUPTIONS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded,)


@dataclass
class StageRun:
    name: str
    outcome: StageOutcome
    duration_ms: float


@dataclass
class ComputedRun:
    """Everything an attempt produced, not yet written."""

    status: str
    reason: str = ""
    stages: list[StageRun] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # provenance and headline columns
    timings: dict[str, float] = field(default_factory=dict)
    integrity_errors: list[str] = field(default_factory=list)  # stored bytes not matching their hash


@dataclass(frozen=True)
class Outcome:
    """What one call of ``check_run_execute`` did."""

    run_id: int
    result: str  # committed | stale | held | final | gone
    status: str | None = None
    attempt: int | None = None
    retry_after: timedelta | None = None


def check_run_execute(
    *,
    run_id: int,
    now: datetime | None = None,
    lease: timedelta | None = None,
    host: str | None = None,
    pid: int | None = None,
) -> Outcome:
    """Claim, compute, commit. ``now`` is the clock for the claim and the finish time (tests and
    simulations pass it; a worker uses the real one)."""
    clock = time.monotonic()
    explicit_now = now is not None
    now = now or timezone.now()
    claim = check_run_claim(run_id=run_id, now=now, lease=lease, host=host, pid=pid)
    if isinstance(claim, Refusal):
        if claim.status is None:
            return Outcome(run_id=run_id, result="gone")
        if claim.held:
            assert claim.lease_expires_at is not None
            return Outcome(
                run_id=run_id,
                result="held",
                status=claim.status,
                retry_after=max(claim.lease_expires_at - timezone.now(), timedelta(0)),
            )
        return Outcome(run_id=run_id, result="final", status=claim.status)

    run = CheckRun.objects.select_related("model", "version", "plan", "policy").get(pk=run_id)
    claimed_in = time.monotonic() - clock
    try:
        computed = run_playbook(run)
    except TRANSIENT_ERRORS + INTERRUPTIONS:
        with contextlib.suppress(DatabaseError):  # if it fails, the lease expires on its own
            check_run_release(claim=claim)
        raise
    finished_at = now + timedelta(seconds=time.monotonic() - clock) if explicit_now else None
    computed.timings["database_claim"] = claimed_in
    committed = check_run_commit(run=run, claim=claim, computed=computed, finished_at=finished_at)
    _log_timings(run_id, claim.attempt, computed.timings, time.monotonic() - clock)
    return Outcome(
        run_id=run_id,
        result="committed" if committed else "stale",
        status=computed.status if committed else None,
        attempt=claim.attempt,
    )


def _log_timings(run_id: int, attempt: int, timings: dict[str, float], total: float) -> None:
    """One line per attempt saying where its time went (``make bench-sweep`` reads these)."""
    database = (
        timings.get("database_read", 0.0)
        + timings.get("database_commit", 0.0)
        + timings.get("database_claim", 0.0)
    )
    logger.info(
        "checks.timings run=%s attempt=%s total=%.6f statistics=%.6f storage_read=%.6f database=%.6f",
        run_id,
        attempt,
        total,
        timings.get("statistics", 0.0),
        timings.get("storage_read", 0.0),
        database,
    )


def run_playbook(run: CheckRun, *, pinned: Pinned | None = None, strict: bool = False) -> ComputedRun:
    """Walk the stages for the run's kind. ``pinned`` (from ``recompute``) fixes the exact inputs
    and parameters to read instead of what the window holds now; ``strict`` lets unavailable
    inputs raise instead of failing the run.

    The inputs are loaded once into a frozen ``RunInputs``; each stage gets them and a read-only
    view of the outcomes before it, and the run's headline columns are what the stages' headlines
    add up to."""
    stages = playbook_for(run.kind)
    base_fields: dict[str, Any] = {"code_version": code_version(), "library_versions": library_versions()}
    if not stages:
        return ComputedRun(
            status=RunStatus.SKIPPED,
            fields=base_fields,
            reason=(
                f"no {run.kind} stage exists yet: validating the evaluation, performance, "
                "concept drift and label shift join the playbook when their statistics land; "
                "this run is not a check that happened"
            ),
        )

    journal = RunJournal()
    computed = ComputedRun(status=RunStatus.SUCCEEDED, timings=journal.timings)
    try:
        inputs = loader.run_inputs_load(run, pinned=pinned, journal=journal)
    except TRANSIENT_ERRORS + INTERRUPTIONS:
        raise
    except Exception as exc:
        # Unreadable inputs fail this run, on record, with the reason; they must not stop a
        # sweep or an embedded ``run_checks`` from reaching the other models.
        if strict:
            raise
        if not isinstance(exc, InputsUnavailable):
            logger.exception("run %s: reading its inputs failed", run.pk)
        reason = str(exc) if isinstance(exc, InputsUnavailable) else f"{type(exc).__name__}: {exc}"
        computed.status, computed.reason = RunStatus.FAILED, reason
        computed.fields = {**base_fields, **_provenance(journal)}
        return computed

    outcomes: dict[str, StageOutcome] = {}
    headline: dict[str, Any] = {}
    for stage in stages:
        started = time.perf_counter()
        try:
            outcome = stage.run(inputs, MappingProxyType(dict(outcomes)))
            with_this = headline_merged(headline, stage.name, outcome.headline)
        except TRANSIENT_ERRORS + INTERRUPTIONS:
            raise
        except Exception as exc:
            # A bug or bad data: recorded on the stage and the run, never retried.
            logger.exception("run %s: stage %s failed", run.pk, stage.name)
            outcome = StageOutcome.failed(
                f"{type(exc).__name__}: {exc}", traceback_tail=traceback.format_exc(limit=-3)[-2000:]
            )
            with_this = headline
        duration = (time.perf_counter() - started) * 1000
        outcomes[stage.name] = outcome
        headline = with_this
        computed.stages.append(StageRun(stage.name, outcome, duration))
    journal.add_time("statistics", inputs.derived.seconds)

    failed = [s.name for s in computed.stages if s.outcome.status == StageStatus.FAILED]
    if failed:
        computed.status = RunStatus.FAILED
        computed.reason = "stage(s) failed: " + ", ".join(
            f"{s.name} ({s.outcome.reason})" for s in computed.stages if s.name in failed
        )
    computed.fields = {**base_fields, **_provenance(journal), **headline}
    computed.integrity_errors = list(journal.integrity_errors)
    return computed


def _provenance(journal: RunJournal) -> dict[str, Any]:
    """What the run row records about its inputs: everything read before reading stopped."""
    from monitors.stats import STATS_CODE_VERSION

    return {"stats_code_version": STATS_CODE_VERSION, "parameters": {}, **journal.read}


def check_run_commit(
    *, run: CheckRun, claim: Claim, computed: ComputedRun, finished_at: datetime | None = None
) -> bool:
    """Write the attempt's results if, and only if, the claim still holds. Returns False (and
    writes nothing) for a stale attempt whose lease another attempt has taken over."""
    finished_at = finished_at or timezone.now()
    late = run.late or (finished_at > run.deadline and run.origin != RunOrigin.RECOMPUTE)
    started = time.perf_counter()
    with transaction.atomic():
        updated = CheckRun.objects.filter(pk=run.pk, attempt=claim.attempt, status=RunStatus.RUNNING).update(
            status=computed.status,
            status_reason=computed.reason,
            finished_at=finished_at,
            late=late,
            lease_expires_at=None,
            **computed.fields,
        )
        if updated != 1:
            logger.warning("run %s: attempt %s lost its claim; nothing committed", run.pk, claim.attempt)
            return False
        _save_results(run, computed)
        run.refresh_from_db()
        changes = findings_commit(run=run, stages=computed.stages, now=finished_at)
        record(
            action=ledger_actions.run_finished(computed.status),
            subject=run,
            payload=_ledger_payload(run, claim, computed, changes),
        )
    computed.timings["database_commit"] = computed.timings.get("database_commit", 0.0) + (
        time.perf_counter() - started
    )
    return True


def _save_results(run: CheckRun, computed: ComputedRun) -> None:
    stage_rows, features, metrics, events = [], [], [], []
    for position, stage in enumerate(computed.stages):
        outcome = stage.outcome
        stage_rows.append(
            StageRecord(
                run=run,
                position=position,
                name=stage.name,
                status=outcome.status,
                reason=outcome.reason,
                findings=outcome.findings,
                duration_ms=round(stage.duration_ms, 3),
            )
        )
        for row in outcome.feature_results:
            row.run = run
            features.append(row)
        for row in outcome.metric_results:
            row.run = run
            metrics.append(row)
        for row in outcome.event_correlations:
            row.run = run
            events.append(row)
    StageRecord.objects.bulk_create(stage_rows)
    FeatureResult.objects.bulk_create(features, batch_size=1000)
    MetricResult.objects.bulk_create(metrics, batch_size=1000)
    EventCorrelation.objects.bulk_create(events)


def _ledger_payload(
    run: CheckRun, claim: Claim, computed: ComputedRun, changes: FindingChanges
) -> dict[str, Any]:
    """Ids, hashes, names and aggregates only: never a raw data value. Findings are counted
    (by kind and severity, opened, updated, closed), not listed: their rows say the rest."""
    return {
        "run": run.pk,
        "model": run.model.slug,
        "version": run.version_id,
        "kind": run.kind,
        "window": [run.window_start.isoformat(), run.window_end.isoformat()],
        "revision": run.revision,
        "supersedes": run.supersedes_id,
        "origin": run.origin,
        "status": run.status,
        "reason": run.status_reason,
        "late": run.late,
        "deadline": run.deadline.isoformat(),
        "attempt": claim.attempt,
        "worker": {"host": claim.host, "pid": claim.pid},
        "plan": run.plan_id,
        "policy": run.policy_id,
        "schema": run.schema_id,
        "as_of_sequence": run.as_of_sequence,
        "data_sha256s": run.data_sha256s,
        "label_sha256s": run.label_sha256s,
        "reference_sha256": run.reference_sha256,
        "reference_profile_sha256": run.reference_profile_sha256,
        "n_rows": run.n_rows,
        "code_version": run.code_version,
        "stats_code_version": run.stats_code_version,
        "library_versions": run.library_versions,
        "seeds": run.seeds,
        "drift_share": run.drift_share,
        "drift_detected": run.drift_detected,
        "stages": [
            {
                "name": s.name,
                "status": s.outcome.status,
                "reason": s.outcome.reason,
                "findings": _ledger_findings(s.outcome),
            }
            for s in computed.stages
        ],
        "findings": changes.summary(),
    }


def _ledger_findings(outcome: StageOutcome) -> dict[str, Any]:
    """The stage's headline findings: drifted features and flagged columns by name."""
    return {key: value for key, value in outcome.findings.items() if key != "traceback_tail"}
