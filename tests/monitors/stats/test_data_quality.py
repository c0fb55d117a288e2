"""Data quality: missing share, out of range, unseen categories, constant columns, row count."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from monitors.stats import (
    DriftConfig,
    FeatureSpec,
    ProfileSchema,
    ReferenceProfile,
    build_reference_profile,
    run_univariate_check,
)
from tests.monitors.stats.loan_world import Columns

MakeWindow = Callable[..., Columns]


def test_a_clean_window_passes(loan_profile: ReferenceProfile, make_window: MakeWindow) -> None:
    result = run_univariate_check(loan_profile, make_window(1_000, seed=20), expected_rows=1_100)
    assert all(q.passed for q in result.data_quality), [q.issues for q in result.data_quality]
    assert result.row_count.passed


def test_missing_values_are_counted_and_a_rise_is_an_issue(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(1_000, seed=21)
    window["income"][:150] = np.nan
    income = run_univariate_check(loan_profile, window).quality("income")
    assert (income.n_missing, income.missing_share) == (150, 0.15)
    assert income.reference_missing_share == 0.0
    assert income.issues == ("missing_share_increase",)


def test_missing_values_in_a_non_nullable_column_are_an_issue_however_few() -> None:
    schema = ProfileSchema(features=(FeatureSpec("id_score", "numeric", nullable=False),))
    profile = build_reference_profile({"id_score": np.arange(100.0)}, schema)
    window = {"id_score": np.array([1.0, np.nan, 3.0] + [4.0] * 97)}
    assert run_univariate_check(profile, window).quality("id_score").issues == ("missing_in_non_nullable",)


def test_values_outside_the_declared_range_are_out_of_range(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(1_000, seed=22)
    window["age"][:4] = [5.0, 17.0, 101.0, np.nan]
    age = run_univariate_check(loan_profile, window).quality("age")
    assert age.n_out_of_range == 3
    assert age.out_of_range_share == pytest.approx(3 / 999)
    assert "out_of_range" in age.issues


def test_categories_outside_the_declared_set_are_out_of_range() -> None:
    schema = ProfileSchema(features=(FeatureSpec("tier", "categorical", categories=("a", "b")),))
    profile = build_reference_profile({"tier": np.array(["a", "b"] * 50, dtype=object)}, schema)
    window = {"tier": np.array(["a", "b", "c", "a"] * 25, dtype=object)}
    tier = run_univariate_check(profile, window).quality("tier")
    assert (tier.n_out_of_range, tier.n_unseen, tier.n_distinct_unseen) == (25, 25, 1)
    assert set(tier.issues) == {"out_of_range", "unseen_categories"}


def test_unseen_categories_are_counted_and_tested_as_one_new_category(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(1_000, seed=23)
    window["country"][:60] = np.array(["BE", "LU", "BE"] * 20, dtype=object)
    result = run_univariate_check(loan_profile, window)
    country = result.quality("country")
    assert (country.n_unseen, country.n_distinct_unseen) == (60, 2)
    assert country.unseen_share == pytest.approx(0.06)
    assert "unseen_categories" in country.issues
    chi2 = result.feature("country")
    assert chi2.parameters["categories"] == 5 and chi2.drifted


def test_a_column_constant_in_the_window_only_is_an_issue(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(1_000, seed=24)
    window["income"] = np.full(1_000, 42_000.0)
    window["country"] = np.full(1_000, "DE", dtype=object)
    result = run_univariate_check(loan_profile, window)
    assert "constant_in_window" in result.quality("income").issues
    assert "constant_in_window" in result.quality("country").issues


def test_a_constant_reference_is_noted_and_a_differing_window_drifts() -> None:
    schema = ProfileSchema(features=(FeatureSpec("version", "numeric"),))
    profile = build_reference_profile({"version": np.full(1_000, 3.0)}, schema)
    same = run_univariate_check(profile, {"version": np.full(200, 3.0)})
    quality = same.quality("version")
    assert quality.reference_constant and quality.window_constant and quality.passed
    assert "the reference is constant" in quality.notes[0]
    assert not same.feature("version").drifted
    changed = run_univariate_check(profile, {"version": np.full(200, 4.0)})
    assert changed.feature("version").statistic == 1.0 and changed.feature("version").drifted


@pytest.mark.parametrize(
    ("rows", "expected", "passed"),
    [(1_000, 1_000, True), (400, 1_000, False), (2_500, 1_000, False), (0, 0, True)],
)
def test_the_row_count_is_checked_against_the_expectation(
    loan_profile: ReferenceProfile,
    make_window: MakeWindow,
    rows: int,
    expected: int,
    passed: bool,
) -> None:
    result = run_univariate_check(loan_profile, make_window(rows, seed=25), expected_rows=expected)
    assert result.row_count.passed is passed


def test_without_an_expectation_the_row_count_is_not_judged(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    row_count = run_univariate_check(loan_profile, make_window(10, seed=26)).row_count
    assert row_count.passed is None and row_count.note == "no expected row count was given"


def test_tolerances_come_from_the_config(loan_profile: ReferenceProfile, make_window: MakeWindow) -> None:
    window = make_window(1_000, seed=27)
    window["income"][:30] = np.nan
    strict = DriftConfig(missing_share_tolerance=0.01)
    assert (
        "missing_share_increase"
        in run_univariate_check(loan_profile, window, strict).quality("income").issues
    )
    assert run_univariate_check(loan_profile, window).quality("income").passed
