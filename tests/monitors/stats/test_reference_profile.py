"""Building, serialising and reading back reference profiles."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from monitors.stats import (
    PROFILE_CODE_VERSION,
    FeatureSpec,
    ProfileFormatError,
    ProfileSchema,
    ReferenceProfile,
    build_reference_profile,
)
from monitors.stats.profile import ContinuousProfile, DiscreteProfile
from tests.monitors.stats.loan_world import LOAN_SCHEMA, Columns, loan_columns


def test_the_same_input_gives_identical_bytes(loan_reference: Columns) -> None:
    first = build_reference_profile(loan_reference, LOAN_SCHEMA, segment_min_size=500)
    second = build_reference_profile(
        {k: v.copy() for k, v in loan_reference.items()}, LOAN_SCHEMA, segment_min_size=500
    )
    assert first.to_bytes() == second.to_bytes()
    assert first.sha256 == second.sha256


def test_bytes_read_back_into_an_equal_profile(loan_profile: ReferenceProfile) -> None:
    data = loan_profile.to_bytes()
    again = ReferenceProfile.from_bytes(data)
    assert again.to_bytes() == data
    assert again.code_version == PROFILE_CODE_VERSION
    age = again.feature("age").components["value"]
    original = loan_profile.feature("age").components["value"]
    assert isinstance(age, ContinuousProfile) and isinstance(original, ContinuousProfile)
    assert np.array_equal(age.sorted_values, original.sorted_values)
    assert age.std == original.std
    assert [s.value for s in again.segments] == [s.value for s in loan_profile.segments]


def test_the_format_is_an_npz_without_pickle_plus_a_json_header(
    loan_profile: ReferenceProfile,
) -> None:
    data = loan_profile.to_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "header.json" in archive.namelist()
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert npz["f0.value.sorted"].dtype == np.float64


def test_sorted_columns_make_a_profile_hold_raw_values(loan_profile: ReferenceProfile) -> None:
    assert loan_profile.holds_raw_values
    flags = ProfileSchema(features=(FeatureSpec("member", "boolean"),))
    only_flags = build_reference_profile({"member": np.array([True, False, True])}, flags)
    assert not only_flags.holds_raw_values


def test_numeric_features_keep_sorted_values_moments_and_decile_bins(
    loan_reference: Columns, loan_profile: ReferenceProfile
) -> None:
    income = loan_profile.feature("income").components["value"]
    assert isinstance(income, ContinuousProfile)
    assert np.array_equal(income.sorted_values, np.sort(loan_reference["income"]))
    assert income.mean == pytest.approx(loan_reference["income"].mean(), rel=1e-12)
    assert income.std == pytest.approx(loan_reference["income"].std(), rel=1e-12)
    assert income.psi_edges.size == 9
    assert income.psi_counts.tolist() == [600] * 10
    assert not income.sorted_values.flags.writeable


def test_spec_psi_bins_replace_the_deciles() -> None:
    schema = ProfileSchema(features=(FeatureSpec("score", "numeric", psi_bins=(300.0, 600.0)),))
    profile = build_reference_profile({"score": np.array([100.0, 300, 450, 700, 900])}, schema)
    score = profile.feature("score").components["value"]
    assert isinstance(score, ContinuousProfile)
    assert score.bins_source == "spec"
    assert score.psi_counts.tolist() == [2, 1, 2]


def test_datetime_and_text_features_become_components(loan_profile: ReferenceProfile) -> None:
    applied = loan_profile.feature("applied_at")
    assert list(applied.components) == ["value", "time_of_day", "day_of_week"]
    days = applied.components["day_of_week"]
    assert isinstance(days, DiscreteProfile) and days.labels[0] == "Mon"
    assert days.counts.sum() == 6_000
    note = loan_profile.feature("note")
    assert list(note.components) == ["length", "tokens"]
    tokens = note.components["tokens"]
    assert isinstance(tokens, DiscreteProfile)
    assert set(tokens.labels) == {"loan", "car", "home", "repair", "holiday", "study", "debt"}
    assert note.n_missing == note.components["length"].n_missing > 0


def test_day_of_week_and_time_of_day_are_read_in_utc() -> None:
    schema = ProfileSchema(features=(FeatureSpec("t", "datetime"),))
    # 2024-03-04 is a Monday; 1969-12-31 a Wednesday (negative epoch offsets floor correctly)
    values = np.array(["2024-03-04T06:30:00", "1969-12-31T23:00:00", "NaT"], dtype="datetime64[ns]")
    profile = build_reference_profile({"t": values}, schema)
    days = profile.feature("t").components["day_of_week"]
    assert isinstance(days, DiscreteProfile)
    assert days.counts.tolist() == [1, 0, 1, 0, 0, 0, 0]
    time_of_day = profile.feature("t").components["time_of_day"]
    assert isinstance(time_of_day, ContinuousProfile)
    assert time_of_day.sorted_values.tolist() == [6.5 * 3600, 23 * 3600]
    assert profile.feature("t").n_missing == 1


def test_very_many_categories_keep_the_most_frequent_and_lump_the_rest() -> None:
    values = np.array([f"id{i}" for i in range(5_000)] + ["common"] * 100, dtype=object)
    schema = ProfileSchema(features=(FeatureSpec("user", "categorical"),))
    profile = build_reference_profile({"user": values}, schema, max_categories=50)
    user = profile.feature("user").components["value"]
    assert isinstance(user, DiscreteProfile)
    assert user.truncated and len(user.labels) == 50 and "common" in user.labels
    assert user.other_count == 5_100 - int(user.counts.sum())
    assert user.n_distinct == 5_001


def test_segments_are_profiled_when_the_reference_has_enough_rows(
    loan_profile: ReferenceProfile,
) -> None:
    # 6,000 rows at 40/30/20/10 %: PL (about 600) clears 500, so all four are profiled
    values = {s.value: s.profile.n_rows for s in loan_profile.segments}
    assert set(values) == {"DE", "FR", "NL", "PL"}
    assert sum(values.values()) == 6_000
    de = next(s for s in loan_profile.segments if s.value == "DE").profile
    assert [f.name for f in de.features] == ["age", "income", "member", "applied_at", "note"]
    small = build_reference_profile(loan_columns(1_000, 2), LOAN_SCHEMA, segment_min_size=250)
    assert {s.value for s in small.segments} == {"DE", "FR"}  # about 400 and 300 rows


def test_a_missing_column_or_a_short_column_is_named() -> None:
    columns = loan_columns(100, 3)
    del columns["income"]
    with pytest.raises(ValueError, match="column `income`: is missing from the reference"):
        build_reference_profile(columns, LOAN_SCHEMA)
    columns = loan_columns(100, 3)
    columns["member"] = columns["member"][:-1]
    with pytest.raises(ValueError, match="column `member`: has 99 rows but column `age` has 100"):
        build_reference_profile(columns, LOAN_SCHEMA)


def test_bytes_that_are_not_a_profile_are_refused() -> None:
    with pytest.raises(ProfileFormatError):
        ReferenceProfile.from_bytes(b"not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("header.json", '{"format": "something else"}')
    with pytest.raises(ProfileFormatError, match="not a reference profile"):
        ReferenceProfile.from_bytes(buffer.getvalue())
