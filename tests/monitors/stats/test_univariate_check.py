"""The full univariate check: test choice, decisions, corrections, drift share, segments."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from monitors.stats import (
    STATS_CODE_VERSION,
    DriftConfig,
    FeatureOverride,
    FeatureSpec,
    Finding,
    ProfileSchema,
    ReferenceProfile,
    StatsConfigError,
    build_reference_profile,
    run_univariate_check,
)
from monitors.stats.correction import adjust_p_values
from tests.monitors.stats.loan_world import LOAN_SCHEMA, Columns

MakeWindow = Callable[..., Columns]


def test_a_window_like_the_reference_shows_no_drift(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    result = run_univariate_check(loan_profile, make_window(1_000, seed=2))
    primary = [r for r in result.features if r.role == "primary"]
    assert not [r.feature for r in primary if r.drifted]
    assert result.drift_share.share == 0.0 and not result.drift_share.drifted


def test_a_shifted_feature_and_a_reshuffled_category_are_flagged(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(2_000, seed=3, age_shift=6.0, country_p=(0.1, 0.2, 0.3, 0.4))
    result = run_univariate_check(loan_profile, window)
    age, country = result.feature("age"), result.feature("country")
    assert (age.test, age.drifted) == ("ks", True)
    assert (country.test, country.drifted) == ("chi2", True)
    assert not result.feature("income").drifted
    assert result.feature("age", "psi").parameters["band"] in ("moderate", "significant")


def test_the_automatic_choice_by_type_and_size(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    result = run_univariate_check(loan_profile, make_window(1_000, seed=4))
    chosen = {(r.feature, r.component): r.test for r in result.features if r.role == "primary"}
    assert chosen == {
        ("age", "value"): "ks",
        ("income", "value"): "ks",
        ("country", "value"): "chi2",
        ("member", "value"): "ztest",  # 7,000 values in total: above the Fisher limit
        ("applied_at", "value"): "ks",
        ("applied_at", "time_of_day"): "ks",
        ("applied_at", "day_of_week"): "chi2",
        ("note", "length"): "ks",
        ("note", "tokens"): "jensenshannon",
    }
    large = DriftConfig(large_sample_size=1_000)  # now 1,000 window rows count as large
    big = run_univariate_check(loan_profile, make_window(1_000, seed=4), large)
    assert big.feature("age").test == "wasserstein"
    assert big.feature("country").test == "jensenshannon"
    assert big.feature("member").test == "jensenshannon"


def test_small_binary_samples_use_fishers_exact_test() -> None:
    schema = ProfileSchema(features=(FeatureSpec("flag", "boolean"),))
    profile = build_reference_profile({"flag": np.array([True] * 30 + [False] * 270)}, schema)
    result = run_univariate_check(profile, {"flag": np.array([True] * 12 + [False] * 28)})
    flag = result.feature("flag")
    assert flag.test == "fisher"
    assert flag.p_value == pytest.approx(stats.fisher_exact([[270, 30], [28, 12]]).pvalue)


def test_overrides_and_schema_tests_pin_the_test(loan_reference: Columns, make_window: MakeWindow) -> None:
    specs = tuple(
        FeatureSpec(f.name, f.kind, test="cvm") if f.name == "income" else f for f in LOAN_SCHEMA.features
    )
    profile = build_reference_profile(loan_reference, ProfileSchema(specs))
    config = DriftConfig(overrides={"age": FeatureOverride(test="energy", threshold=0.5)})
    result = run_univariate_check(profile, make_window(800, seed=5), config)
    assert result.feature("income").test == "cvm"
    age = result.feature("age")
    assert (age.test, age.threshold) == ("energy", 0.5)


def test_an_override_for_an_unknown_feature_or_an_inapplicable_test_is_refused(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(100, seed=6)
    with pytest.raises(StatsConfigError, match="`salary`"):
        run_univariate_check(
            loan_profile, window, DriftConfig(overrides={"salary": FeatureOverride(test="ks")})
        )
    with pytest.raises(StatsConfigError, match=r"feature `country`.*'ks'"):
        run_univariate_check(
            loan_profile, window, DriftConfig(overrides={"country": FeatureOverride(test="ks")})
        )


def test_p_values_are_corrected_over_the_primary_tests_of_all_features(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    for correction in ("bonferroni", "holm", "bh"):
        config = DriftConfig(correction=correction)  # type: ignore[arg-type]
        result = run_univariate_check(loan_profile, make_window(900, seed=7), config)
        primary = [r for r in result.features if r.role == "primary" and r.p_value is not None]
        raw = np.array([r.p_value for r in primary])
        expected = adjust_p_values(raw, correction)  # type: ignore[arg-type]
        assert [r.adjusted_p_value for r in primary] == pytest.approx(expected.tolist())


def test_a_significant_but_tiny_shift_is_not_drift_below_the_effect_size_threshold() -> None:
    rng = np.random.default_rng(11)
    schema = ProfileSchema(features=(FeatureSpec("x", "numeric"),))
    profile = build_reference_profile({"x": rng.normal(size=400_000)}, schema)
    # 0.03 SD: D is about 0.012, far beyond chance at these sizes, below the 0.02 threshold
    window = {"x": rng.normal(0.03, 1, size=99_000)}
    x = run_univariate_check(profile, window).feature("x")
    assert x.test == "ks" and x.adjusted_p_value is not None and x.adjusted_p_value < 1e-6
    assert x.effect_size is not None and x.effect_size < 0.02
    assert not x.drifted


def test_the_drift_share_weighs_features_by_importance(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    # age (importance 3) drifts; total importance 3 + 2 + 1 + 1 + 1 + 0.5 = 8.5
    result = run_univariate_check(loan_profile, make_window(2_000, seed=8, age_shift=8.0))
    assert result.drift_share.drifted_features == ("age",)
    assert result.drift_share.share == pytest.approx(3.0 / 8.5)
    assert result.drift_share.weight_total == 8.5
    assert not result.drift_share.drifted  # below the 0.5 threshold
    assert result.feature("age").is_key


def test_a_skipped_feature_is_left_out_of_the_drift_share(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    config = DriftConfig(overrides={"age": FeatureOverride(skip=True)})
    result = run_univariate_check(loan_profile, make_window(500, seed=9, age_shift=8.0), config)
    assert all(r.feature != "age" for r in result.features)
    assert result.drift_share.weight_total == 5.5


def test_every_segment_value_gets_its_own_results(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(3_000, seed=10)
    shifted_fr = window["country"] == "FR"
    window["age"] = np.where(shifted_fr, window["age"] + 10, window["age"])
    result = run_univariate_check(loan_profile, window, DriftConfig(segment_min_size=250))
    segments = {s.value: s for s in result.segments}
    assert set(segments) == {"DE", "FR", "NL", "PL"}
    fr_age = next(r for r in segments["FR"].features if r.feature == "age" and r.role == "primary")
    de_age = next(r for r in segments["DE"].features if r.feature == "age" and r.role == "primary")
    assert fr_age.drifted and not de_age.drifted
    assert segments["FR"].n_window == int(shifted_fr.sum())
    assert segments["PL"].n_window < 400  # 10 % of 3,000
    small = run_univariate_check(loan_profile, window, DriftConfig(segment_min_size=400))
    pl = next(s for s in small.segments if s.value == "PL")
    assert pl.features == () and pl.note is not None and "fewer than the minimum 400" in pl.note


def test_results_are_json_with_versions_config_and_no_nan(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    result = run_univariate_check(loan_profile, make_window(700, seed=12), expected_rows=1_000)
    data = result.as_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["stats_code_version"] == STATS_CODE_VERSION
    assert data["kind"] == "univariate_check"
    assert data["config"] == DriftConfig().as_dict()
    assert data["row_count"]["ratio"] == 0.7
    for finding in (result, *result.features, *result.data_quality, result.drift_share):
        assert isinstance(finding, Finding)


def test_a_missing_window_column_is_named(loan_profile: ReferenceProfile, make_window: MakeWindow) -> None:
    window = make_window(50, seed=13)
    del window["note"]
    with pytest.raises(ValueError, match="column `note`: is missing from the window"):
        run_univariate_check(loan_profile, window)


def test_the_checks_numbers_are_scipys(
    loan_reference: Columns, loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(1_500, seed=14, age_shift=1.0)
    result = run_univariate_check(loan_profile, window)
    age = result.feature("age")
    scipy_age = stats.ks_2samp(loan_reference["age"], window["age"])  # exact at these sizes
    assert age.statistic == pytest.approx(scipy_age.statistic, rel=1e-12)
    assert age.p_value == pytest.approx(scipy_age.pvalue, rel=1e-9)
    labels = ["DE", "FR", "NL", "PL"]
    table = np.array(
        [
            [np.sum(loan_reference["country"] == c) for c in labels],
            [np.sum(window["country"] == c) for c in labels],
        ]
    )
    scipy_country = stats.chi2_contingency(table)
    country = result.feature("country")
    assert country.statistic == pytest.approx(scipy_country.statistic, rel=1e-12)
    assert country.p_value == pytest.approx(scipy_country.pvalue, rel=1e-9)
    member = result.feature("member")
    ones = [int(loan_reference["member"].sum()), int(window["member"].sum())]
    z_table = np.array([[6_000 - ones[0], ones[0]], [1_500 - ones[1], ones[1]]])
    uncorrected = stats.chi2_contingency(z_table, correction=False)
    assert member.statistic is not None
    assert member.statistic**2 == pytest.approx(uncorrected.statistic, rel=1e-12)


def test_datetime_and_text_components_are_tested_separately(
    loan_profile: ReferenceProfile, make_window: MakeWindow
) -> None:
    window = make_window(1_500, seed=15)
    # same days, but every application now arrives between 02:00 and 03:00 UTC
    day = window["applied_at"].astype("datetime64[D]")
    minutes = np.random.default_rng(16).integers(120, 180, 1_500).astype("timedelta64[m]")
    window["applied_at"] = (day + minutes).astype("datetime64[ns]")
    window["note"] = np.array(["crypto crypto crypto"] * 1_500, dtype=object)
    result = run_univariate_check(loan_profile, window)
    assert result.feature("applied_at", component="time_of_day").drifted
    assert not result.feature("applied_at", component="day_of_week").drifted
    tokens = result.feature("note", component="tokens")
    assert tokens.test == "jensenshannon" and tokens.drifted
    assert "note" in result.drift_share.drifted_features
