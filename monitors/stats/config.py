"""How a univariate drift check decides: tests, thresholds, corrections. See docs/stats.md."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from monitors.stats._json import JSONValue
from monitors.stats.correction import CORRECTIONS, Correction
from monitors.stats.errors import StatsConfigError
from vocabulary.drift_tests import (
    DEFAULT_THRESHOLDS,
    DRIFT_TEST_NAMES,
    DRIFT_TESTS,
    SIGNIFICANCE_TESTS,
    ComponentType,
    unknown_test_message,
)

__all__ = (
    "ALL_TESTS",
    "DEFAULT_THRESHOLDS",
    "SIGNIFICANCE_TESTS",
    "ComponentType",
    "DriftConfig",
    "FeatureOverride",
    "auto_test",
    "supports",
)

# The table of tests (names, what each applies to, significance or distance, default effect-size
# thresholds) lives in the shared vocabulary; docs/stats.md works out what each threshold ignores.
ALL_TESTS = frozenset(DRIFT_TESTS)


@dataclass(frozen=True)
class FeatureOverride:
    """Per-feature settings that win over the config's defaults and the schema's ``test``."""

    test: str | None = None
    threshold: float | None = None
    alpha: float | None = None
    skip: bool = False

    def as_dict(self) -> dict[str, JSONValue]:
        return {"test": self.test, "threshold": self.threshold, "alpha": self.alpha, "skip": self.skip}


@dataclass(frozen=True)
class DriftConfig:
    """Settings of a univariate check; recorded with every result through ``as_dict()``."""

    alpha: float = 0.05
    correction: Correction = "holm"
    #: from this many non-missing values on the smaller side, the automatic choice moves from
    #: significance tests to distances (Wasserstein for numbers, Jensen-Shannon for categories)
    large_sample_size: int = 100_000
    #: binary features use Fisher's exact test up to this many values in total (or when an
    #: expected cell count is below 5), the two-proportion Z-test above
    fisher_max_size: int = 1_000
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    #: tests run on every feature besides its primary test (reported, not in the drift share)
    extra_tests: tuple[str, ...] = ("psi",)
    overrides: Mapping[str, FeatureOverride] = field(default_factory=dict)
    drift_share_threshold: float = 0.5
    segment_min_size: int = 200
    psi_epsilon: float = 1e-4
    js_base: float = 2.0
    missing_share_tolerance: float = 0.05
    out_of_range_tolerance: float = 0.0
    unseen_tolerance: float = 0.01
    row_count_min_ratio: float = 0.5
    row_count_max_ratio: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise StatsConfigError(f"alpha must lie in (0, 1), got {self.alpha}")
        if self.correction not in CORRECTIONS:
            raise StatsConfigError(f"correction {self.correction!r} is not one of {CORRECTIONS}")
        unknown = sorted(set(self.thresholds) - ALL_TESTS)
        if unknown:
            raise StatsConfigError(
                f"thresholds for unknown tests {unknown}; known tests: {', '.join(DRIFT_TEST_NAMES)}"
            )
        merged = dict(DEFAULT_THRESHOLDS)
        merged.update(self.thresholds)
        for test, value in merged.items():
            if not (math.isfinite(value) and value >= 0):
                raise StatsConfigError(f"threshold for {test} must be finite and >= 0")
        object.__setattr__(self, "thresholds", MappingProxyType(merged))
        for test in self.extra_tests:
            if test not in ALL_TESTS:
                raise StatsConfigError(f"extra tests: {unknown_test_message(test)}")
        for name, override in self.overrides.items():
            if override.test is not None and override.test not in ALL_TESTS:
                raise StatsConfigError(f"feature `{name}`: {unknown_test_message(override.test)}")
            if override.alpha is not None and not 0.0 < override.alpha < 1.0:
                raise StatsConfigError(f"feature `{name}`: alpha must lie in (0, 1)")
            if override.threshold is not None and not (
                math.isfinite(override.threshold) and override.threshold >= 0
            ):
                raise StatsConfigError(f"feature `{name}`: threshold must be finite and >= 0")
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        for label, value in (
            ("large_sample_size", self.large_sample_size),
            ("fisher_max_size", self.fisher_max_size),
            ("segment_min_size", self.segment_min_size),
        ):
            if value < 1:
                raise StatsConfigError(f"{label} must be >= 1")
        if not 0.0 <= self.drift_share_threshold <= 1.0:
            raise StatsConfigError("drift_share_threshold must lie in [0, 1]")
        if not 0.0 < self.psi_epsilon < 1.0:
            raise StatsConfigError("psi_epsilon must lie in (0, 1)")
        if self.js_base <= 1.0:
            raise StatsConfigError("js_base must be > 1")
        if not 0.0 < self.row_count_min_ratio <= 1.0 <= self.row_count_max_ratio:
            raise StatsConfigError("row count ratios must satisfy 0 < min <= 1 <= max")

    def threshold_for(self, feature: str, test: str) -> float:
        override = self.overrides.get(feature)
        if override is not None and override.threshold is not None:
            return override.threshold
        return self.thresholds[test]

    def alpha_for(self, feature: str) -> float:
        override = self.overrides.get(feature)
        if override is not None and override.alpha is not None:
            return override.alpha
        return self.alpha

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "alpha": self.alpha,
            "correction": self.correction,
            "large_sample_size": self.large_sample_size,
            "fisher_max_size": self.fisher_max_size,
            "thresholds": dict(sorted(self.thresholds.items())),
            "extra_tests": list(self.extra_tests),
            "overrides": {k: v.as_dict() for k, v in sorted(self.overrides.items())},
            "drift_share_threshold": self.drift_share_threshold,
            "segment_min_size": self.segment_min_size,
            "psi_epsilon": self.psi_epsilon,
            "js_base": self.js_base,
            "missing_share_tolerance": self.missing_share_tolerance,
            "out_of_range_tolerance": self.out_of_range_tolerance,
            "unseen_tolerance": self.unseen_tolerance,
            "row_count_min_ratio": self.row_count_min_ratio,
            "row_count_max_ratio": self.row_count_max_ratio,
        }


def supports(component: ComponentType, test: str) -> bool:
    """Whether ``test`` applies to a component of this type, as the vocabulary's table says."""
    entry = DRIFT_TESTS.get(test)
    return entry is not None and entry.applies_to(component)


def auto_test(
    component: ComponentType,
    n_reference: int,
    n_window: int,
    config: DriftConfig,
    *,
    min_expected: float | None = None,
) -> str:
    """The test the automatic choice makes for one component (see docs/stats.md)."""
    large = min(n_reference, n_window) >= config.large_sample_size
    if component == "continuous":
        return "wasserstein" if large else "ks"
    if component == "tokens" or large:
        return "jensenshannon"
    if component == "binary":
        small = n_reference + n_window <= config.fisher_max_size
        sparse = min_expected is not None and min_expected < 5.0
        return "fisher" if small or sparse else "ztest"
    return "chi2"
