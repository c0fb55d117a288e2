"""The triage playbook, as lists of stages per run kind, run in order.

Each stage is a module exposing an object with a ``name`` and ``run(inputs, earlier)`` (see
``base.Stage``); adding one is that module plus its line below. Stages that need statistics not
written yet (validating the evaluation, multivariate drift, performance, concept drift, label
shift) are absent, never faked: a kind with no stage yet (``performance``, today) ends its runs
``skipped`` with that reason.
"""

from __future__ import annotations

from monitors.checks.models import RunKind
from monitors.checks.stages.base import Stage
from monitors.checks.stages.correlation import EventCorrelationStage
from monitors.checks.stages.data_quality import DataQualityStage
from monitors.checks.stages.univariate_drift import UnivariateDriftStage

PLAYBOOK: dict[str, tuple[Stage, ...]] = {
    RunKind.DRIFT: (DataQualityStage(), UnivariateDriftStage(), EventCorrelationStage()),
    RunKind.PERFORMANCE: (),
}


def playbook_for(kind: str) -> tuple[Stage, ...]:
    return PLAYBOOK[kind]
