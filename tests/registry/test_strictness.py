"""registry.strictness: which way is stricter, field by field (pure; no database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.strictness import (
    CORRECTION_ORDER,
    PLAN_DIRECTIONS,
    POLICY_DIRECTIONS,
    Verdict,
    covered_by,
    effective_policy_default,
    plan_loosenings,
    policy_loosenings,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "registry.md"

PLAN = {
    "drift_window_days": 1,
    "performance_window_days": 30,
    "window_alignment": "day",
    "time_zone": "UTC",
    "grace_hours": 6,
    "label_maturity_days": 90,
    "alpha": 0.01,
    "correction": "holm",
    "min_sample_size": 1000,
    "drift_share_threshold": 0.2,
    "thresholds": {"psi": {"value": 0.1, "rationale": "r", "approver": ""}},
}
POLICY = {
    "performance_metric": "auc",
    "performance_tolerance_abs": 0.02,
    "performance_tolerance_rel": 0.03,
    "confidence_level": 0.95,
    "kpi_gate": 0.05,
    "cooldown_days": 14,
    "max_model_age_days": 365,
    "approvals_required": 2,
}


def loosened_plan(**changes):
    return [(x.field, x.verdict) for x in plan_loosenings({**PLAN, **changes}, PLAN)]


def loosened_policy(task_type="binary", has_kpi=True, **changes):
    return [
        (x.field, x.verdict)
        for x in policy_loosenings({**POLICY, **changes}, POLICY, task_type=task_type, has_kpi=has_kpi)
    ]


@pytest.mark.parametrize(
    ("field", "stricter", "looser"),
    [
        ("drift_window_days", 0.5, 7),
        ("performance_window_days", 7, 31),
        ("grace_hours", 1, 7),
        ("label_maturity_days", 30, 91),
        ("alpha", 0.05, 0.001),
        ("min_sample_size", 5000, 999),
        ("drift_share_threshold", 0.1, 0.3),
    ],
)
def test_each_numeric_plan_field_has_a_direction(field, stricter, looser):
    assert loosened_plan(**{field: stricter}) == []
    assert loosened_plan(**{field: looser}) == [(field, Verdict.LOOSER)]


def test_corrections_run_from_bonferroni_loosest_to_bh_strictest():
    assert CORRECTION_ORDER == ("bonferroni", "holm", "bh")
    assert loosened_plan(correction="bh") == []
    assert loosened_plan(correction="bonferroni") == [("correction", Verdict.LOOSER)]


def test_a_changed_time_zone_or_alignment_is_not_comparable_and_so_looser():
    assert loosened_plan(time_zone="Europe/Paris", window_alignment="week") == [
        ("window_alignment", Verdict.NOT_COMPARABLE),
        ("time_zone", Verdict.NOT_COMPARABLE),
    ]


def test_thresholds_compare_per_test_and_a_removed_one_is_looser():
    lower = {
        "psi": {"value": 0.05, "rationale": "r", "approver": ""},
        "kl": {"value": 1.0, "rationale": "an extra test is stricter", "approver": ""},
    }
    assert loosened_plan(thresholds=lower) == []
    higher = {"psi": {"value": 0.2, "rationale": "r", "approver": ""}}
    assert loosened_plan(thresholds=higher) == [("thresholds.psi", Verdict.LOOSER)]
    assert loosened_plan(thresholds={}) == [("thresholds.psi", Verdict.REMOVED)]


@pytest.mark.parametrize(
    ("field", "stricter", "looser"),
    [
        ("performance_tolerance_abs", 0.01, 0.05),
        ("performance_tolerance_rel", 0.01, 0.05),
        ("confidence_level", 0.9, 0.99),
        ("kpi_gate", 0.01, 0.1),
        ("cooldown_days", 7, 30),
        ("max_model_age_days", 180, 400),
        ("approvals_required", 3, 1),
    ],
)
def test_each_policy_field_has_a_direction(field, stricter, looser):
    assert loosened_policy(**{field: stricter}) == []
    assert loosened_policy(**{field: looser}) == [(field, Verdict.LOOSER)]


def test_another_metric_is_not_comparable_and_a_removed_kpi_gate_is_looser():
    assert loosened_policy(performance_metric="gini") == [("performance_metric", Verdict.NOT_COMPARABLE)]
    assert loosened_policy(kpi_gate=None) == [("kpi_gate", Verdict.REMOVED)]
    assert loosened_policy(has_kpi=False, kpi_gate=None) == []
    assert (
        policy_loosenings({**POLICY, "kpi_gate": 0.2}, {**POLICY, "kpi_gate": None}, task_type="binary") == []
    )


def test_a_regression_model_is_held_to_rmse_and_its_own_units():
    assert effective_policy_default(POLICY, "regression")["performance_metric"] == "rmse"
    assert effective_policy_default(POLICY, "ranking")["performance_metric"] == "auc"
    assert loosened_policy("regression", performance_metric="rmse", performance_tolerance_abs=25.0) == []
    assert loosened_policy("regression", performance_metric="mae", performance_tolerance_abs=25.0) == [
        ("performance_metric", Verdict.NOT_COMPARABLE)
    ]
    assert loosened_policy("multiclass", performance_metric="macro_f1", performance_tolerance_abs=0.5) == [
        ("performance_tolerance_abs", Verdict.LOOSER)
    ]


def test_an_exception_naming_thresholds_covers_every_test():
    assert covered_by("thresholds.psi", ["thresholds"])
    assert covered_by("alpha", ["alpha"])
    assert not covered_by("alpha", ["thresholds"])


def _documented(section: str) -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    body = text.split(f"### {section}", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| ([^|]+) \|", body, flags=re.MULTILINE)
    return {key: stricter.strip() for key, stricter in rows}


@pytest.mark.parametrize(
    ("section", "directions"), [("Plan keys", PLAN_DIRECTIONS), ("Policy keys", POLICY_DIRECTIONS)]
)
def test_the_documentation_states_every_fields_direction(section, directions):
    documented = _documented(section)
    assert set(documented) == set(directions)
    for field, (direction, _why) in directions.items():
        word = {
            "smaller is stricter": "smaller",
            "larger is stricter": "larger",
            "not comparable": "not comparable",
            "ordered": "later in that order",
            "smaller is stricter; none is loosest": "smaller; null is loosest",
        }.get(direction.value, "smaller value")
        assert documented[field] == word, field
