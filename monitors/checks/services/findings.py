"""Findings across revisions: open, update, close, never double.

A run's stages raise ``FindingDraft``s; ``findings_commit`` turns them into ``Finding`` rows
inside the run's commit (``check_run_commit``), so that a run's findings land with its results
and ledger entry or not at all, and the run's compare-and-set claim makes a retried or
duplicated task write them once.

Within one series (model version x window x run kind) a finding's identity is its kind and
subject. For each draft the open finding with that identity is updated (numbers, severity, the
run it was last seen in, ``revision``) or, if there is none, opened. An open finding of the
series that this run's stages no longer raise is closed, "no longer holds in revision N" — but
only when the stage that raised it ran to the end in this run: a stage that was skipped or
failed says nothing about whether its finding still holds. A revision older than the one an open
finding was last seen in leaves that finding alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitors.checks.models import CheckRun, Finding, StageStatus
from monitors.checks.stages.base import FindingDraft, StageOutcome


class StageRun(Protocol):
    """A stage's name and outcome (``services.execute.StageRun``)."""

    @property
    def name(self) -> str: ...

    @property
    def outcome(self) -> StageOutcome: ...


@dataclass
class FindingChanges:
    """What one run did to its series' findings (counts go into the run's ledger entry)."""

    opened: list[Finding] = field(default_factory=list)
    updated: list[Finding] = field(default_factory=list)
    closed: list[Finding] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        raised = self.opened + self.updated
        return {
            "raised": len(raised),
            "opened": len(self.opened),
            "updated": len(self.updated),
            "closed": len(self.closed),
            "by_kind": dict(sorted(Counter(f.kind for f in raised).items())),
            "by_severity": dict(sorted(Counter(f.severity for f in raised).items())),
        }


def drafts_of(stages: Sequence[StageRun]) -> dict[tuple[str, str], tuple[str, FindingDraft]]:
    """Every draft the stages raised by identity, with the stage that raised it (the first
    stage to raise an identity keeps it)."""
    out: dict[tuple[str, str], tuple[str, FindingDraft]] = {}
    for stage in stages:
        for draft in stage.outcome.raised:
            out.setdefault(draft.identity, (stage.name, draft))
    return out


def finished_stages(stages: Sequence[StageRun]) -> set[str]:
    """The stages that ran to the end: only they may close a finding they no longer raise."""
    return {s.name for s in stages if s.outcome.status == StageStatus.SUCCEEDED}


def open_findings_of(run: CheckRun, *, for_update: bool = False) -> dict[tuple[str, str], Finding]:
    """The open findings of the run's series (model version x window x run kind), by identity;
    ``for_update`` locks them (inside the run's commit)."""
    rows = Finding.objects.filter(
        version_id=run.version_id,
        window_start=run.window_start,
        window_end=run.window_end,
        run_kind=run.kind,
        closed_at__isnull=True,
    )
    if for_update:
        rows = rows.select_for_update()
    return {(f.kind, f.subject): f for f in rows}


def findings_commit(*, run: CheckRun, stages: Sequence[StageRun], now: datetime) -> FindingChanges:
    """Open, update and close the series' findings for ``run``. Call inside the run's commit."""
    changes = FindingChanges()
    finished = finished_stages(stages)
    open_rows = open_findings_of(run, for_update=True)

    for identity, (stage, draft) in drafts_of(stages).items():
        row = open_rows.pop(identity, None)
        if row is None:
            changes.opened.append(
                Finding(
                    model_id=run.model_id,
                    version_id=run.version_id,
                    window_start=run.window_start,
                    window_end=run.window_end,
                    run_kind=run.kind,
                    kind=draft.kind,
                    subject=draft.subject,
                    run=run,
                    stage=stage,
                    last_run=run,
                    revision=run.revision,
                    severity=draft.severity,
                    numbers=dict(draft.numbers),
                    note=draft.note,
                    opened_at=now,
                    last_seen_at=now,
                )
            )
            continue
        if row.revision > run.revision:
            continue  # a newer revision already spoke for this window
        row.stage, row.last_run, row.revision = stage, run, run.revision
        row.severity, row.numbers, row.note, row.last_seen_at = (
            draft.severity,
            dict(draft.numbers),
            draft.note,
            now,
        )
        changes.updated.append(row)

    reason = f"no longer holds in revision {run.revision} (run #{run.pk})"
    for row in open_rows.values():
        if row.stage not in finished or row.revision > run.revision:
            continue
        row.closed_at, row.closed_by_run, row.closed_reason = now, run, reason
        changes.closed.append(row)

    # One statement per kind of change, not one per finding.
    Finding.objects.bulk_create(changes.opened)
    Finding.objects.bulk_update(
        changes.updated, ["stage", "last_run", "revision", "severity", "numbers", "note", "last_seen_at"]
    )
    Finding.objects.filter(pk__in=[row.pk for row in changes.closed]).update(
        closed_at=now, closed_by_run=run, closed_reason=reason
    )
    return changes
