"""Edge cases end in a defined result or an error that names the column and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from monitors.stats import (
    FeatureSpec,
    ProfileSchema,
    ReferenceProfile,
    StatsInputError,
    build_reference_profile,
    run_univariate_check,
)
from tests.monitors.stats.loan_world import LOAN_SCHEMA, Columns

MakeWindow = Callable[..., Columns]


def _json(result: object) -> str:
    return json.dumps(result.as_dict(), allow_nan=False)  # type: ignore[attr-defined]


def test_an_empty_window_gives_notes_everywhere_and_no_drift(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    result = run_univariate_check(loan_profile, make_window(0, seed=30), expected_rows=1_000)
    assert result.n_window_rows == 0
    assert all(r.skipped and not r.drifted for r in result.features)
    assert {r.note for r in result.features} == {"the window has no non-missing values"}
    assert all("the window is empty" in q.notes for q in result.data_quality)
    assert result.drift_share.share is None and result.drift_share.n_skipped == 6
    assert result.row_count.passed is False
    assert all(s.features == () for s in result.segments)
    _json(result)


def test_a_one_row_window_is_tested(loan_profile: ReferenceProfile, make_window: MakeWindow) -> None:
    result = run_univariate_check(loan_profile, make_window(1, seed=31))
    age = result.feature("age")
    assert age.n_window == 1 and age.method == "exact" and age.p_value is not None
    assert result.feature("country").p_value is not None
    assert not result.quality("age").window_constant  # one value is not a constant column
    _json(result)


def test_an_all_missing_window_column_is_skipped_and_reported(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(500, seed=32)
    window["income"] = np.full(500, np.nan)
    window["country"] = np.full(500, None, dtype=object)
    result = run_univariate_check(loan_profile, window)
    for name in ("income", "country"):
        primary = result.feature(name)
        assert primary.skipped and not primary.drifted
        assert primary.note == "the window has no non-missing values"
        assert "all_missing" in result.quality(name).issues
    assert result.drift_share.n_skipped == 2


def test_an_all_missing_reference_column_is_skipped_too() -> None:
    schema = ProfileSchema(features=(FeatureSpec("x", "numeric"), FeatureSpec("y", "numeric")))
    profile = build_reference_profile({"x": np.full(100, np.nan), "y": np.arange(100.0)}, schema)
    result = run_univariate_check(profile, {"x": np.arange(10.0), "y": np.arange(10.0)})
    assert result.feature("x").note == "the reference has no non-missing values"
    assert result.quality("x").reference_missing_share == 1.0
    _json(result)


def test_a_constant_window_against_a_varied_reference_is_drift() -> None:
    schema = ProfileSchema(features=(FeatureSpec("x", "numeric"),))
    profile = build_reference_profile({"x": np.random.default_rng(1).normal(size=5_000)}, schema)
    result = run_univariate_check(profile, {"x": np.zeros(300)})
    x = result.feature("x")
    assert x.statistic == pytest.approx(0.5, abs=0.02) and x.drifted
    assert "constant_in_window" in result.quality("x").issues


def test_a_category_missing_from_the_window_still_counts() -> None:
    schema = ProfileSchema(features=(FeatureSpec("c", "categorical"),))
    reference = np.array(["a"] * 500 + ["b"] * 400 + ["c"] * 100, dtype=object)
    profile = build_reference_profile({"c": reference}, schema)
    result = run_univariate_check(profile, {"c": np.array(["a"] * 50 + ["b"] * 50, dtype=object)})
    c = result.feature("c")
    assert c.parameters["categories"] == 3 and c.drifted
    assert result.feature("c", "psi").parameters["empty_window_bins"] == 1


def test_very_high_cardinality_is_truncated_and_unseen_values_cannot_be_told_apart() -> None:
    schema = ProfileSchema(features=(FeatureSpec("user", "categorical"),))
    reference = np.array([f"u{i}" for i in range(20_000)], dtype=object)
    profile = build_reference_profile({"user": reference}, schema, max_categories=100)
    window = np.array([f"u{i}" for i in range(19_000, 21_000)], dtype=object)
    result = run_univariate_check(profile, {"user": window})
    quality = result.quality("user")
    assert quality.n_unseen is None and "unseen categories" in quality.notes[0]
    assert result.feature("user").p_value is not None
    _json(result)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("age", np.array([30.0, "n/a", 41.0], dtype=object), r"column `age`: .*str 'n/a' at row 1"),
        ("age", np.array(["30", "41", "52"]), r"column `age`: a numeric feature needs numbers"),
        ("age", np.array([30.0, np.inf, 1.0]), r"column `age`: infinite value at row 1"),
        ("country", np.array(["DE", 7, "FR"], dtype=object), r"column `country`: .*int 7 at row 1"),
        ("country", np.array([1, 2, 3]), r"column `country`: .*got dtype int64"),
        ("member", np.array([True, "yes", None], dtype=object), r"column `member`: .*'yes' at row 1"),
        ("member", np.array([0.0, 2.0, 1.0]), r"column `member`: .*2.0 at row 1"),
        ("applied_at", np.array(["2024-01-01"] * 3, dtype=object), r"column `applied_at`: .*datetime64"),
        ("note", np.array(["fine", 3.5, None], dtype=object), r"column `note`: .*float 3.5 at row 1"),
    ],
)
def test_mixed_or_wrong_types_raise_an_error_naming_column_row_and_value(
    loan_profile: ReferenceProfile,
    make_window: MakeWindow,
    column: str,
    values: np.ndarray,
    message: str,
) -> None:
    window = make_window(3, seed=33)
    window[column] = values
    with pytest.raises(StatsInputError, match=message) as caught:
        run_univariate_check(loan_profile, window)
    assert caught.value.column == column


def test_the_reference_is_validated_the_same_way(make_window: MakeWindow) -> None:
    columns = make_window(10, seed=34)
    columns["country"] = np.array(["DE"] * 9 + [["not", "hashable"]], dtype=object)
    with pytest.raises(StatsInputError, match=r"column `country`: .*list .* at row 9"):
        build_reference_profile(columns, LOAN_SCHEMA)


def test_missing_values_may_be_none_or_nan_in_object_columns(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(100, seed=35)
    window["country"][:3] = [None, np.nan, float("nan")]
    window["member"] = np.array([True, None, np.nan, False] * 25, dtype=object)
    window["age"] = np.array([None, 30, 40.5, np.nan] * 25, dtype=object)
    result = run_univariate_check(loan_profile, window)
    assert result.quality("country").n_missing == 3
    assert result.quality("member").n_missing == 50
    assert result.quality("age").n_missing == 50
