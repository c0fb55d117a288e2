"""The drift-test table and the statistics engine stay in step: every name has an implementation
and every implementation a name, each test runs on every component type the table gives it and
is refused where the table says it does not apply."""

from __future__ import annotations

import numpy as np
import pytest

from monitors.stats import DriftConfig, FeatureOverride, FeatureSpec, ProfileSchema, build_reference_profile
from monitors.stats.check import IMPLEMENTED_TESTS, run_univariate_check
from monitors.stats.errors import StatsConfigError
from monitors.stats.window import component_type
from vocabulary.drift_tests import (
    DEFAULT_THRESHOLDS,
    DRIFT_TESTS,
    FEATURE_KIND_COMPONENTS,
    drift_tests_for_kind,
)

N = 400


def _values(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if kind == "numeric":
        return rng.normal(size=n)
    if kind == "categorical":
        return rng.choice(np.array(["a", "b", "c"], dtype=object), size=n)
    if kind == "boolean":
        return rng.integers(0, 2, size=n).astype(bool)
    if kind == "datetime":
        return (np.datetime64("2026-01-01T00:00:00") + rng.integers(0, 86_400 * 30, size=n)).astype(
            "datetime64[ns]"
        )
    words = np.array(["late payment", "new card", "card blocked", "address change"], dtype=object)
    return rng.choice(words, size=n)


def _profile(kind: str, test: str | None = None):
    spec = FeatureSpec(name="x", kind=kind, test=test)
    rng = np.random.default_rng(7)
    return build_reference_profile({"x": _values(kind, rng, N)}, ProfileSchema(features=(spec,)))


def test_every_name_in_the_table_has_an_implementation_and_every_implementation_a_name():
    assert frozenset(DRIFT_TESTS) == IMPLEMENTED_TESTS


def test_the_engines_default_thresholds_are_the_tables():
    assert dict(DriftConfig().thresholds) == dict(DEFAULT_THRESHOLDS)


@pytest.mark.parametrize("kind", sorted(FEATURE_KIND_COMPONENTS))
def test_each_feature_kind_is_profiled_as_the_component_types_the_table_names(kind):
    feature = _profile(kind).features[0]
    assert {component_type(kind, name) for name in feature.components} == FEATURE_KIND_COMPONENTS[kind]


@pytest.mark.parametrize(
    ("kind", "test"),
    [(kind, test) for kind in sorted(FEATURE_KIND_COMPONENTS) for test in drift_tests_for_kind(kind)],
)
def test_a_feature_pinned_to_a_test_the_table_allows_is_checked_with_that_test(kind, test):
    profile = _profile(kind)
    window = {"x": _values(kind, np.random.default_rng(8), 300)}
    config = DriftConfig(overrides={"x": FeatureOverride(test=test)}, extra_tests=())
    result = run_univariate_check(profile, window, config)
    primaries = [r for r in result.features if r.role == "primary"]
    applicable = {
        c for c in profile.features[0].components if DRIFT_TESTS[test].applies_to(component_type(kind, c))
    }
    assert {r.component for r in primaries if r.test == test} == applicable
    assert all(r.statistic is not None for r in primaries if r.test == test)


@pytest.mark.parametrize(
    ("kind", "test"),
    [
        (kind, test)
        for kind in sorted(FEATURE_KIND_COMPONENTS)
        for test in DRIFT_TESTS
        if test not in drift_tests_for_kind(kind)
    ],
)
def test_a_pin_the_table_does_not_allow_is_refused_by_the_engine(kind, test):
    profile = _profile(kind)
    window = {"x": _values(kind, np.random.default_rng(8), 300)}
    with pytest.raises(StatsConfigError, match=f"asks for test '{test}', which does not apply"):
        run_univariate_check(profile, window, DriftConfig(overrides={"x": FeatureOverride(test=test)}))


def test_an_unknown_test_is_refused_with_the_list_of_known_names():
    with pytest.raises(StatsConfigError, match="'kolmogorov' is not a drift test; known tests: ks, cvm"):
        DriftConfig(overrides={"x": FeatureOverride(test="kolmogorov")})
    with pytest.raises(StatsConfigError, match="known tests: ks, cvm, anderson"):
        DriftConfig(thresholds={"kolmogorov": 0.1})
