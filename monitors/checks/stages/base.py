"""The shape of a playbook stage and of what it hands back.

A stage is a plug-in over plain data: it takes the run's frozen inputs and the outcomes of the
stages before it, and returns its findings, unsaved result rows, the findings it raises as
``FindingDraft``s (the runner turns them into ``Finding`` rows) and its contribution to the
run's headline, or ``StageOutcome.skipped("because ...")``. It never writes, and it never
reaches into anything shared and mutable: the runner saves every stage's rows in one
transaction, or none.

Adding a stage is a module with an object that has a ``name`` and a ``run``, plus one line in
``PLAYBOOK`` (``stages/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from monitors.checks.models import EventCorrelation, FeatureResult, MetricResult, StageStatus
from vocabulary.findings import finding_kind, severity_rank

if TYPE_CHECKING:
    from monitors.checks.run_inputs import RunInputs

#: The run columns a stage's headline may fill. Each belongs to one stage; ``summary`` is a JSON
#: object the stages share, each adding keys of its own.
HEADLINE_FIELDS = ("drift_share", "drift_detected", "summary")


def short(value: float | None) -> str:
    """A number for a finding's note: four significant digits, ``-`` when there is none."""
    return "-" if value is None else f"{value:.4g}"


@dataclass(frozen=True)
class FindingDraft:
    """A finding a stage raises, as plain data: a kind from ``vocabulary.findings``, what it is
    about (a feature, a metric, ``event:<id>``; blank when none), its numbers (aggregates only,
    never a raw data value) and a one-line note. ``severity`` defaults to the kind's."""

    kind: str
    subject: str = ""
    numbers: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    severity: str = ""

    def __post_init__(self) -> None:
        row = finding_kind(self.kind)  # an unknown kind fails the stage, on record
        if not self.severity:
            object.__setattr__(self, "severity", row.default_severity)
        severity_rank(self.severity)

    @property
    def identity(self) -> tuple[str, str]:
        """What tells it apart within one run's window (with the run's version, window, kind)."""
        return (self.kind, self.subject)


@dataclass(frozen=True)
class StageOutcome:
    status: str
    reason: str = ""
    #: names and aggregates, never raw data values: they go into the stage record and the ledger
    findings: dict[str, Any] = field(default_factory=dict)
    feature_results: tuple[FeatureResult, ...] = ()
    metric_results: tuple[MetricResult, ...] = ()
    event_correlations: tuple[EventCorrelation, ...] = ()
    #: the findings this stage raises; the runner opens, updates or closes ``Finding`` rows
    raised: tuple[FindingDraft, ...] = ()
    #: what this stage adds to the run's headline columns (see ``HEADLINE_FIELDS``)
    headline: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def skipped(cls, reason: str, **findings: Any) -> StageOutcome:
        return cls(status=StageStatus.SKIPPED, reason=reason, findings=findings)

    @classmethod
    def failed(cls, reason: str, **findings: Any) -> StageOutcome:
        return cls(status=StageStatus.FAILED, reason=reason, findings=findings)


#: The outcomes of the stages that ran before, by stage name, read-only.
Earlier = Mapping[str, StageOutcome]


class Stage(Protocol):
    """One step of the triage playbook."""

    name: ClassVar[str]

    def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome: ...


class HeadlineConflict(ValueError):
    """A stage's headline names a column no stage may set, or one another stage already set."""


def headline_merged(
    headline: Mapping[str, Any], stage: str, contribution: Mapping[str, Any]
) -> dict[str, Any]:
    """``headline`` with one stage's contribution added (a new dict; neither argument changes)."""
    merged = {key: dict(value) if key == "summary" else value for key, value in headline.items()}
    for key, value in contribution.items():
        if key not in HEADLINE_FIELDS:
            raise HeadlineConflict(
                f"stage {stage}: {key!r} is not a headline column; use one of {', '.join(HEADLINE_FIELDS)} "
                "(or a key of your own under 'summary')"
            )
        if key == "summary":
            summary = merged.setdefault("summary", {})
            taken = sorted(set(summary) & set(value))
            if taken:
                raise HeadlineConflict(f"stage {stage}: summary key(s) {', '.join(taken)} already set")
            summary.update(value)
        elif key in merged:
            raise HeadlineConflict(f"stage {stage}: headline column {key!r} already set by an earlier stage")
        else:
            merged[key] = value
    return merged
