"""Which way is stricter, for every field of a monitoring plan and a retraining policy.

A model's plan and policy may only be as strict as its risk tier's default or stricter; a field
that moves the other way is a *loosening* and needs an approved, unexpired policy exception that
names it. A change that cannot be compared (another time zone, another window alignment, another
performance metric, a threshold the tier sets that the model drops) counts as a loosening: nobody
can show it is at least as strict.

This module is pure: content dictionaries in (as ``registry.documents.model_document`` normalises
them), a list of :class:`Loosening` out. The table in ``docs/registry.md`` mirrors
``PLAN_DIRECTIONS`` and ``POLICY_DIRECTIONS``; a test keeps the two in step.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vocabulary import metrics as vocabulary_metrics


class Direction(enum.Enum):
    SMALLER_IS_STRICTER = "smaller is stricter"
    LARGER_IS_STRICTER = "larger is stricter"
    ORDERED = "ordered"  # by a stated order of choices, loosest first
    NOT_COMPARABLE = "not comparable"  # any change from the tier's value is a loosening
    OPTIONAL_SMALLER_IS_STRICTER = "smaller is stricter; none is loosest"
    THRESHOLDS = "per test: smaller is stricter; dropping the tier's test is a loosening"


class Verdict(enum.Enum):
    EQUAL = "equal"
    STRICTER = "stricter"
    LOOSER = "looser"
    NOT_COMPARABLE = "not comparable"
    REMOVED = "removed"


# Multiple-testing corrections, loosest first: Bonferroni controls the family-wise error rate
# most conservatively (fewest alarms), Holm is uniformly more powerful than Bonferroni, and
# Benjamini-Hochberg controls the false discovery rate instead, raising the most alarms.
CORRECTION_ORDER = ("bonferroni", "holm", "bh")

PLAN_DIRECTIONS: dict[str, tuple[Direction, str]] = {
    "drift_window_days": (Direction.SMALLER_IS_STRICTER, "a shorter drift window is checked more often"),
    "performance_window_days": (
        Direction.SMALLER_IS_STRICTER,
        "a shorter performance window is checked more often",
    ),
    "window_alignment": (Direction.NOT_COMPARABLE, "windows on other boundaries"),
    "time_zone": (Direction.NOT_COMPARABLE, "windows in another time zone"),
    "grace_hours": (Direction.SMALLER_IS_STRICTER, "a run counts as late sooner"),
    "label_maturity_days": (
        Direction.SMALLER_IS_STRICTER,
        "a longer wait for labels delays performance checks (larger is looser)",
    ),
    "alpha": (
        Direction.LARGER_IS_STRICTER,
        "a lower significance level raises fewer alarms (lower is looser)",
    ),
    "correction": (Direction.ORDERED, "bonferroni (loosest) < holm < bh (strictest)"),
    "min_sample_size": (
        Direction.LARGER_IS_STRICTER,
        "a larger minimum sample makes every verdict more reliable",
    ),
    "drift_share_threshold": (
        Direction.SMALLER_IS_STRICTER,
        "fewer drifted features are needed to flag the model",
    ),
    "thresholds": (
        Direction.THRESHOLDS,
        "a lower distance (PSI, Jensen-Shannon, ...) threshold alarms sooner",
    ),
}

POLICY_DIRECTIONS: dict[str, tuple[Direction, str]] = {
    "performance_metric": (Direction.NOT_COMPARABLE, "another metric measures something else"),
    "performance_tolerance_abs": (
        Direction.SMALLER_IS_STRICTER,
        "a smaller tolerated drop (compared only for metrics on a 0-1 "
        "scale; for rmse and the like it is in the target's units)",
    ),
    "performance_tolerance_rel": (Direction.SMALLER_IS_STRICTER, "a smaller tolerated drop"),
    "confidence_level": (
        Direction.SMALLER_IS_STRICTER,
        "demanding more confidence before confirming a drop confirms fewer (larger is looser)",
    ),
    "kpi_gate": (
        Direction.OPTIONAL_SMALLER_IS_STRICTER,
        "a smaller KPI drop triggers a retrain; no gate never triggers",
    ),
    "cooldown_days": (Direction.SMALLER_IS_STRICTER, "a retrain may follow sooner"),
    "max_model_age_days": (Direction.SMALLER_IS_STRICTER, "a model must be renewed sooner"),
    "approvals_required": (Direction.LARGER_IS_STRICTER, "more people must agree to a retrain"),
}

# The metrics each task type may be measured by (the tier default names one metric; for a task
# type it does not fit, the task's standard metric applies) and those on a 0-1 scale, whose
# absolute tolerances mean the same thing for every model: from the shared table.
TASK_METRICS = vocabulary_metrics.TASK_METRICS
STANDARD_METRIC = vocabulary_metrics.STANDARD_METRIC
UNIT_SCALE_METRICS = vocabulary_metrics.UNIT_SCALE_METRICS


@dataclass(frozen=True)
class Loosening:
    field: str  # "alpha", "thresholds.psi"
    value: Any
    default: Any
    verdict: Verdict

    def describe(self, tier: str) -> str:
        """The sentence a refusal shows, after ``plan.<field>: ``."""
        if self.verdict is Verdict.REMOVED:
            return f"the {tier} tier sets {self.field} at {_show(self.default)}; leaving it out is looser"
        if self.verdict is Verdict.NOT_COMPARABLE:
            return (
                f"{_show(self.value)} cannot be compared with the {tier} tier's "
                f"{_show(self.default)}, so it counts as looser"
            )
        return f"{_show(self.value)} is looser than the {tier} tier's {_show(self.default)}"


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def compare(direction: Direction, value: Any, default: Any) -> Verdict:
    if value == default:
        return Verdict.EQUAL
    if direction is Direction.NOT_COMPARABLE:
        return Verdict.NOT_COMPARABLE
    if direction is Direction.ORDERED:
        if value not in CORRECTION_ORDER or default not in CORRECTION_ORDER:
            return Verdict.NOT_COMPARABLE
        stricter = CORRECTION_ORDER.index(value) > CORRECTION_ORDER.index(default)
        return Verdict.STRICTER if stricter else Verdict.LOOSER
    if direction is Direction.OPTIONAL_SMALLER_IS_STRICTER:
        if value is None:
            return Verdict.REMOVED
        if default is None:
            return Verdict.STRICTER
        return Verdict.STRICTER if value < default else Verdict.LOOSER
    if direction is Direction.SMALLER_IS_STRICTER:
        return Verdict.STRICTER if value < default else Verdict.LOOSER
    if direction is Direction.LARGER_IS_STRICTER:
        return Verdict.STRICTER if value > default else Verdict.LOOSER
    raise ValueError(f"compare() does not handle {direction}")


def _threshold_loosenings(value: Mapping[str, Any], default: Mapping[str, Any]) -> list[Loosening]:
    found = []
    for test, tier_entry in sorted(default.items()):
        field = f"thresholds.{test}"
        mine = value.get(test)
        if mine is None:
            found.append(Loosening(field, None, tier_entry["value"], Verdict.REMOVED))
        elif mine["value"] > tier_entry["value"]:
            found.append(Loosening(field, mine["value"], tier_entry["value"], Verdict.LOOSER))
    return found


def plan_loosenings(plan: Mapping[str, Any], tier_default: Mapping[str, Any]) -> list[Loosening]:
    """Fields of ``plan`` looser than (or not comparable with) the tier default's."""
    found: list[Loosening] = []
    for field, (direction, _why) in PLAN_DIRECTIONS.items():
        if direction is Direction.THRESHOLDS:
            found.extend(_threshold_loosenings(plan[field], tier_default[field]))
            continue
        verdict = compare(direction, plan[field], tier_default[field])
        if verdict in (Verdict.LOOSER, Verdict.NOT_COMPARABLE, Verdict.REMOVED):
            found.append(Loosening(field, plan[field], tier_default[field], verdict))
    return found


def effective_policy_default(tier_default: Mapping[str, Any], task_type: str) -> dict[str, Any]:
    """The tier default as it applies to ``task_type``: a regression model is not measured by
    the tier's auc but by the task's standard metric."""
    effective = dict(tier_default)
    if effective["performance_metric"] not in TASK_METRICS.get(task_type, ()):
        effective["performance_metric"] = STANDARD_METRIC[task_type]
    return effective


def policy_loosenings(
    policy: Mapping[str, Any], tier_default: Mapping[str, Any], *, task_type: str, has_kpi: bool = True
) -> list[Loosening]:
    """Fields of ``policy`` looser than (or not comparable with) the tier default's, for a model
    of ``task_type``. A model without a business KPI has no KPI gate to compare."""
    default = effective_policy_default(tier_default, task_type)
    found: list[Loosening] = []
    for field, (direction, _why) in POLICY_DIRECTIONS.items():
        if field == "kpi_gate" and not has_kpi:
            continue
        if field == "performance_tolerance_abs" and not (
            policy["performance_metric"] == default["performance_metric"]
            and policy["performance_metric"] in UNIT_SCALE_METRICS
        ):
            # In the target's units (rmse) or beside a metric change that is already reported:
            # nothing to compare it with.
            continue
        verdict = compare(direction, policy[field], default[field])
        if verdict in (Verdict.LOOSER, Verdict.NOT_COMPARABLE, Verdict.REMOVED):
            found.append(Loosening(field, policy[field], default[field], verdict))
    return found


def covered_by(field: str, exception_fields: list[str]) -> bool:
    """An exception naming ``thresholds`` covers every ``thresholds.<test>``."""
    return field in exception_fields or (field.startswith("thresholds.") and "thresholds" in exception_fields)


def exception_field_names(target: str) -> tuple[str, ...]:
    """What an exception for ``target`` may name (``thresholds.<test>`` besides these)."""
    return tuple(PLAN_DIRECTIONS if target == "plan" else POLICY_DIRECTIONS)
