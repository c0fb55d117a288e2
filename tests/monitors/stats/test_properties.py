"""Property tests: identical samples show no drift, KS ignores monotone transforms, symmetric
distances are symmetric, and nothing is ever NaN silently."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from monitors.stats import (
    FeatureSpec,
    ProfileSchema,
    TestResult,
    build_reference_profile,
    chi2_homogeneity,
    energy_distance_test,
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    ks_test,
    psi,
    run_univariate_check,
    wasserstein_normalised,
)

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = hnp.arrays(np.float64, st.integers(1, 60), elements=finite_floats)
small_ints = hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(-300, 300))
counts = st.lists(st.integers(0, 500), min_size=2, max_size=8).filter(lambda c: sum(c) > 0)


@PROPERTY_SETTINGS
@given(samples)
def test_a_sample_against_itself_has_ks_zero_and_p_one(x: np.ndarray) -> None:
    result = ks_test(np.sort(x), x)
    assert result.statistic == 0.0
    assert result.p_value == 1.0


@PROPERTY_SETTINGS
@given(counts, st.integers(1, 5))
def test_proportional_counts_show_no_difference(c: list[int], k: int) -> None:
    scaled = [k * v for v in c]
    assert chi2_homogeneity(c, scaled).statistic == pytest.approx(0.0, abs=1e-9)
    assert psi(c, scaled).statistic == pytest.approx(0.0, abs=1e-12)
    for fn in (jensenshannon_distance, hellinger_distance, kl_divergence):
        assert fn(c, scaled).statistic == pytest.approx(0.0, abs=1e-7)


@PROPERTY_SETTINGS
@given(samples)
def test_sample_distances_of_a_sample_to_itself_are_zero(x: np.ndarray) -> None:
    ref = np.sort(x)
    assert wasserstein_normalised(ref, x).parameters["raw_distance"] == 0.0
    assert energy_distance_test(ref, x).statistic == 0.0


@PROPERTY_SETTINGS
@given(
    hnp.arrays(np.float64, st.integers(20, 300), elements=st.floats(-1e3, 1e3)),
)
def test_a_window_equal_to_the_reference_shows_no_drift_in_the_full_check(x: np.ndarray) -> None:
    labels = np.array(["a", "b", "c"], dtype=object)[(np.abs(x) * 7).astype(int) % 3]
    schema = ProfileSchema(features=(FeatureSpec("x", "numeric"), FeatureSpec("c", "categorical")))
    columns = {"x": x, "c": labels}
    result = run_univariate_check(build_reference_profile(columns, schema), columns)
    assert not any(r.drifted for r in result.features)


@PROPERTY_SETTINGS
@given(small_ints, small_ints)
def test_ks_is_invariant_under_strictly_increasing_transforms(a: np.ndarray, b: np.ndarray) -> None:
    # integers in [-300, 300] map to distinct floats under these transforms, so order is kept
    base = ks_test(np.sort(a.astype(float)), b.astype(float))
    for transform in (lambda v: v**3 + 5 * v, lambda v: np.exp(v / 100.0), lambda v: 2.5 * v - 7):
        moved = ks_test(np.sort(transform(a.astype(float))), transform(b.astype(float)))
        assert moved.statistic == base.statistic
        assert moved.p_value == base.p_value


@PROPERTY_SETTINGS
@given(samples, samples)
def test_ks_and_sample_distances_are_symmetric(a: np.ndarray, b: np.ndarray) -> None:
    assert ks_test(np.sort(a), b).statistic == ks_test(np.sort(b), a).statistic
    ab = wasserstein_normalised(np.sort(a), b).parameters["raw_distance"]
    ba = wasserstein_normalised(np.sort(b), a).parameters["raw_distance"]
    assert ab == pytest.approx(ba, rel=1e-12, abs=1e-300)
    assert energy_distance_test(np.sort(a), b).statistic == pytest.approx(
        energy_distance_test(np.sort(b), a).statistic, rel=1e-12, abs=1e-300
    )


@PROPERTY_SETTINGS
@given(
    counts.flatmap(
        lambda c: st.tuples(
            st.just(c),
            st.lists(st.integers(0, 500), min_size=len(c), max_size=len(c)).filter(lambda d: sum(d) > 0),
        )
    )
)
def test_binned_symmetric_distances_are_symmetric(pair: tuple[list[int], list[int]]) -> None:
    a, b = pair
    for fn in (psi, jensenshannon_distance, hellinger_distance):
        assert fn(a, b).statistic == pytest.approx(fn(b, a).statistic, rel=1e-12, abs=1e-15)


@PROPERTY_SETTINGS
@given(
    hnp.arrays(np.float64, st.integers(0, 40), elements=st.one_of(finite_floats, st.just(np.nan))),
    hnp.arrays(np.float64, st.integers(0, 40), elements=st.one_of(finite_floats, st.just(np.nan))),
    st.lists(st.sampled_from(["x", "y", None]), min_size=0, max_size=40),
)
def test_nothing_is_nan_silently(ref: np.ndarray, win: np.ndarray, cats: list[str | None]) -> None:
    n = min(ref.size, len(cats))
    m = min(win.size, len(cats))
    schema = ProfileSchema(
        features=(FeatureSpec("x", "numeric"), FeatureSpec("c", "categorical"), FeatureSpec("b", "boolean"))
    )
    reference = {
        "x": ref[:n],
        "c": np.array(cats[:n], dtype=object),
        "b": ref[:n] > 0,
    }
    window = {"x": win[:m], "c": np.array(cats[:m], dtype=object), "b": win[:m] > 0}
    result = run_univariate_check(build_reference_profile(reference, schema), window)
    json.dumps(result.as_dict(), allow_nan=False)  # raises on NaN or infinity
    for r in result.features:
        for value in (r.statistic, r.p_value, r.adjusted_p_value, r.effect_size):
            assert value is None or math.isfinite(value)
        if r.statistic is None and r.p_value is None:
            assert r.note  # a missing number always comes with a reason


def test_a_result_refuses_nan() -> None:
    with pytest.raises(ValueError, match="use None with a note"):
        TestResult(test="ks", statistic=float("nan"), p_value=None, method="x", n_reference=1, n_window=1)
    with pytest.raises(ValueError, match="use None with a note"):
        TestResult(
            test="ks",
            statistic=0.1,
            p_value=0.5,
            method="x",
            n_reference=1,
            n_window=1,
            parameters={"bad": float("inf")},
        )
