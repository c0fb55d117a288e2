"""The shape of a playbook stage and of what it hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from monitors.checks.models import EventCorrelation, FeatureResult, MetricResult, StageStatus

if TYPE_CHECKING:
    from monitors.checks.context import RunContext


@dataclass
class StageOutcome:
    status: str
    reason: str = ""
    findings: dict[str, Any] = field(default_factory=dict)
    feature_results: list[FeatureResult] = field(default_factory=list)
    metric_results: list[MetricResult] = field(default_factory=list)
    event_correlations: list[EventCorrelation] = field(default_factory=list)

    @classmethod
    def skipped(cls, reason: str, **findings: Any) -> StageOutcome:
        return cls(status=StageStatus.SKIPPED, reason=reason, findings=findings)


class Stage(Protocol):
    """One step of the triage playbook. ``run`` reads what it needs through the context (which
    loads data once and caches it) and returns unsaved result rows; the run's commit saves them
    all in one transaction, or none."""

    name: ClassVar[str]

    def run(self, context: RunContext) -> StageOutcome: ...
