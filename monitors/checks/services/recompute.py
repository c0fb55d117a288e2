"""Replay: recompute a stored run from the very batches it read, and say what differs.

The new result is a new revision that supersedes the run; nothing is overwritten. The inputs are
pinned to what the run recorded (the production and label batches as of its ingest point, the
reference batch and profile by sha256, the drift configuration and seeds), each stored file is
re-hashed against its recorded sha256, and every number is compared exactly: a result that does
not reproduce bit for bit is a difference. If retention purged the inputs, there is nothing to
recompute, and the answer names the ledger entry of the purge.

Findings are not doubled: the new revision updates the open findings of the window, or closes
those it no longer raises (``services/findings.py``), and the differences say which would change.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.ledger import record
from monitors.checks.errors import InputsPurged, InputsUnavailable
from monitors.checks.models import (
    FINAL_STATUSES,
    CheckRun,
    EventCorrelation,
    FeatureResult,
    MetricResult,
    RunOrigin,
    RunStatus,
    StageRecord,
)
from monitors.checks.pinned import Pinned
from monitors.checks.services.claim import Claim
from monitors.checks.services.execute import ComputedRun, check_run_commit, run_playbook
from monitors.checks.services.findings import StageRun, drafts_of, finished_stages, open_findings_of
from vocabulary import ledger_actions

_RUN_FIELDS = (
    "status",
    "data_sha256s",
    "label_sha256s",
    "reference_sha256",
    "reference_profile_sha256",
    "reference_artefact_sha256",
    "as_of_sequence",
    "n_rows",
    "drift_share",
    "drift_detected",
    "summary",
    "code_version",
    "stats_code_version",
    "library_versions",
    "parameters",
    "seeds",
    "schema_id",
)
_FEATURE_FIELDS = (
    "statistic",
    "p_value",
    "adjusted_p_value",
    "threshold",
    "effect_size",
    "drifted",
    "n_reference",
    "n_window",
    "importance",
    "parameters",
)
_METRIC_FIELDS = ("value", "threshold", "flagged", "detail")


class NotRecomputable(Exception):
    """An answer to the operator (no such run, nothing checked), not a bug."""


@dataclass
class RecomputeReport:
    original: CheckRun
    revision: CheckRun | None = None
    differences: list[str] = field(default_factory=list)
    purged: str | None = None


def check_run_recompute(*, run_id: int, now: datetime | None = None) -> RecomputeReport:
    now = now or timezone.now()
    original = CheckRun.objects.select_related("model", "version", "plan", "policy").filter(pk=run_id).first()
    if original is None:
        raise NotRecomputable(f"there is no check run #{run_id}")
    if original.status not in FINAL_STATUSES or original.status == RunStatus.MISSED:
        raise NotRecomputable(
            f"run #{run_id} is {original.status}: only a run that was checked can be recomputed"
        )
    pinned = Pinned.of_run(original)

    draft = CheckRun(
        model=original.model,
        version=original.version,
        kind=original.kind,
        window_start=original.window_start,
        window_end=original.window_end,
        supersedes=original,
        origin=RunOrigin.RECOMPUTE,
        status=RunStatus.RUNNING,
        due_at=original.due_at,
        deadline=original.deadline,
        scheduled_at=now,
        started_at=now,
        attempt=1,
        plan=original.plan,
        policy=original.policy,
        seeds=dict(original.seeds),
    )
    needs_inputs = original.status != RunStatus.SKIPPED and bool(original.reference_sha256)
    try:
        computed = run_playbook(draft, pinned=pinned if needs_inputs else None, strict=True)
    except InputsPurged as exc:
        with transaction.atomic():
            record(
                action=ledger_actions.CHECKS_RUN_RECOMPUTE_REFUSED,
                subject=original,
                payload={"run": original.pk, "reason": str(exc), "purge_entries": exc.ledger_sequences},
            )
        return RecomputeReport(original=original, purged=str(exc))
    except InputsUnavailable as exc:
        raise NotRecomputable(f"run #{run_id} cannot be recomputed: {exc}") from None

    differences = list(computed.integrity_errors) + _differences(original, computed)
    host, pid = socket.gethostname(), os.getpid()
    with transaction.atomic():
        latest = CheckRun.objects.filter(
            version=original.version,
            kind=original.kind,
            window_start=original.window_start,
            window_end=original.window_end,
        )
        draft.revision = (latest.aggregate(r=Max("revision"))["r"] or 0) + 1
        draft.worker_host, draft.worker_pid = host[:255], pid
        draft.lease_expires_at = now + timedelta(hours=1)
        draft.save()
        claim = Claim(run_id=draft.pk, attempt=1, lease_expires_at=draft.lease_expires_at, host=host, pid=pid)
        check_run_commit(run=draft, claim=claim, computed=computed)
        record(
            action=ledger_actions.CHECKS_RUN_RECOMPUTED,
            subject=draft,
            payload={
                "run": draft.pk,
                "supersedes": original.pk,
                "revision": draft.revision,
                "differences": len(differences),
                "detail": differences[:500],
            },
        )
    return RecomputeReport(original=original, revision=draft, differences=differences)


def _same(a: Any, b: Any) -> bool:
    """Exact equality, floats bit for bit; JSON values compared as stored (tuples are lists)."""
    if isinstance(a, dict | list | tuple) or isinstance(b, dict | list | tuple):
        return bool(json.loads(json.dumps(a)) == json.loads(json.dumps(b)))
    return bool(a == b)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _differences(original: CheckRun, computed: ComputedRun) -> list[str]:
    out: list[str] = []
    new_values = {"status": computed.status, **computed.fields}
    for name in _RUN_FIELDS:
        if name not in new_values:
            continue
        before, after = getattr(original, name), new_values[name]
        if not _same(before, after):
            out.append(f"run {name}: {_show(before)} -> {_show(after)}")

    stages_before = {s.name: s for s in StageRecord.objects.filter(run=original)}
    stages_after = {s.name: s.outcome for s in computed.stages}
    for name in sorted(set(stages_before) | set(stages_after)):
        if name not in stages_after or name not in stages_before:
            out.append(f"stage {name}: {'only in the original' if name in stages_before else 'new'}")
            continue
        if stages_before[name].status != stages_after[name].status:
            out.append(f"stage {name} status: {stages_before[name].status} -> {stages_after[name].status}")

    after_features = [row for s in computed.stages for row in s.outcome.feature_results]
    out += _compare_rows(
        "feature",
        FeatureResult.objects.filter(run=original),
        after_features,
        key=lambda r: (r.stage, r.feature, r.segment, r.test),
        fields=_FEATURE_FIELDS,
    )
    after_metrics = [row for s in computed.stages for row in s.outcome.metric_results]
    out += _compare_rows(
        "metric",
        MetricResult.objects.filter(run=original),
        after_metrics,
        key=lambda r: (r.stage, r.feature, r.metric),
        fields=_METRIC_FIELDS,
    )
    before_events = sorted(EventCorrelation.objects.filter(run=original).values_list("event_id", flat=True))
    after_events = sorted(row.event_id for s in computed.stages for row in s.outcome.event_correlations)
    if before_events != after_events:
        out.append(f"correlated events: {before_events} -> {after_events}")
    out += finding_differences(run=original, stages=computed.stages)
    return out


def _compare_rows(
    what: str, before_rows: Any, after_rows: list[Any], *, key: Any, fields: tuple[str, ...]
) -> list[str]:
    out = []
    before = {key(r): r for r in before_rows}
    after = {key(r): r for r in after_rows}
    for k in sorted(set(before) | set(after), key=lambda k: tuple(str(x) for x in k)):
        label = " ".join(str(x) for x in k if x != "")
        if k not in after:
            out.append(f"{what} {label}: only in the original")
            continue
        if k not in before:
            out.append(f"{what} {label}: new in the recompute")
            continue
        for name in fields:
            a, b = getattr(before[k], name), getattr(after[k], name)
            if not _same(a, b):
                out.append(f"{what} {label} {name}: {_show(a)} -> {_show(b)}")
    return out


def finding_differences(*, run: CheckRun, stages: Sequence[StageRun]) -> list[str]:
    """What committing ``stages`` as a new revision of ``run``'s series would change in its open
    findings (recompute's report): opened, closed, or a changed severity or number."""
    out = []
    drafts = drafts_of(stages)
    finished = finished_stages(stages)
    open_rows = open_findings_of(run)
    for identity in sorted(set(drafts) | set(open_rows)):
        label = " ".join(x for x in identity if x)
        if identity not in open_rows:
            out.append(f"finding {label}: new in the recompute")
            continue
        row = open_rows[identity]
        if identity not in drafts:
            if row.stage in finished:
                out.append(f"finding {label}: no longer holds (closed by the recompute)")
            continue
        draft = drafts[identity][1]
        if row.severity != draft.severity:
            out.append(f"finding {label} severity: {row.severity} -> {draft.severity}")
        for name in sorted(set(row.numbers) | set(draft.numbers)):
            before, after = row.numbers.get(name), draft.numbers.get(name)
            if not _same(before, after):
                out.append(f"finding {label} {name}: {_show(before)} -> {_show(after)}")
    return out
