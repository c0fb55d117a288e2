"""The univariate drift tests: one row per test, read by the registry (which plans and feature
pins it accepts), the statistics engine (which implementation it dispatches to) and the docs.

A test applies to *component types*, the statistics engine's view of a feature: a numeric
feature is one continuous component; a datetime feature is two continuous components (the
instant, the time of day) and a discrete one (the day of the week); text is a continuous
length and discrete tokens. See docs/stats.md for the choice and the thresholds.

A *significance* test flags drift when its corrected p-value is below alpha **and** its effect
size reaches the threshold (a p-value alone flags negligible shifts at large n); a *distance*
flags drift when the distance itself reaches the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

ComponentType = Literal["continuous", "discrete", "binary", "tokens"]
Family = Literal["significance", "distance"]

CONTINUOUS: Final = frozenset({"continuous"})
CATEGORICAL: Final = frozenset({"discrete", "binary", "tokens"})
EVERY_COMPONENT: Final = CONTINUOUS | CATEGORICAL


@dataclass(frozen=True)
class DriftTest:
    """One drift test. ``default_threshold`` is in the units of ``effect_size``."""

    name: str
    components: frozenset[str]
    family: Family
    default_threshold: float
    effect_size: str
    measures: str

    def applies_to(self, component: str) -> bool:
        return component in self.components


_TESTS = (
    DriftTest(
        "ks",
        CONTINUOUS,
        "significance",
        0.02,
        "KS distance D",
        "two-sample Kolmogorov-Smirnov: the largest gap between the two empirical CDFs",
    ),
    DriftTest(
        "cvm",
        CONTINUOUS,
        "significance",
        0.02,
        "KS distance D",
        "two-sample Cramer-von Mises: the integrated squared gap between the CDFs",
    ),
    DriftTest(
        "anderson",
        CONTINUOUS,
        "significance",
        0.02,
        "KS distance D",
        "k-sample Anderson-Darling: like Cramer-von Mises, weighted towards the tails",
    ),
    DriftTest(
        "chi2",
        CATEGORICAL,
        "significance",
        0.02,
        "total variation distance",
        "chi-square test of homogeneity of the category counts",
    ),
    DriftTest(
        "fisher",
        frozenset({"binary"}),
        "significance",
        0.02,
        "difference of proportions",
        "Fisher's exact test on the 2x2 table (small samples)",
    ),
    DriftTest(
        "ztest",
        frozenset({"binary"}),
        "significance",
        0.02,
        "difference of proportions",
        "two-proportion Z-test (large samples)",
    ),
    DriftTest(
        "psi",
        EVERY_COMPONENT,
        "distance",
        0.25,
        "PSI",
        "population stability index over fixed reference bins or categories",
    ),
    DriftTest(
        "jensenshannon",
        EVERY_COMPONENT,
        "distance",
        0.1,
        "Jensen-Shannon distance (base 2)",
        "square root of the Jensen-Shannon divergence of the binned distributions",
    ),
    DriftTest(
        "hellinger",
        EVERY_COMPONENT,
        "distance",
        0.1,
        "Hellinger distance",
        "Hellinger distance of the binned distributions",
    ),
    DriftTest(
        "kl",
        EVERY_COMPONENT,
        "distance",
        0.1,
        "KL divergence (nats)",
        "Kullback-Leibler divergence of the window from the reference, smoothed",
    ),
    DriftTest(
        "wasserstein",
        CONTINUOUS,
        "distance",
        0.1,
        "in reference standard deviations",
        "earth mover's distance between the two samples, over the reference's spread",
    ),
    DriftTest(
        "energy",
        CONTINUOUS,
        "distance",
        0.075,
        "energy distance / sqrt(reference std)",
        "energy distance between the two samples (Szekely and Rizzo)",
    ),
)

#: every drift test by name, in the order above
DRIFT_TESTS: Final = MappingProxyType({t.name: t for t in _TESTS})
DRIFT_TEST_NAMES: Final = tuple(DRIFT_TESTS)
SIGNIFICANCE_TESTS: Final = frozenset(t.name for t in _TESTS if t.family == "significance")
DEFAULT_THRESHOLDS: Final = MappingProxyType({t.name: t.default_threshold for t in _TESTS})

#: the component types each registry feature kind is profiled as (see monitors/stats/profile.py)
FEATURE_KIND_COMPONENTS: Final = MappingProxyType(
    {
        "numeric": CONTINUOUS,
        "categorical": frozenset({"discrete"}),
        "boolean": frozenset({"binary"}),
        "datetime": frozenset({"continuous", "discrete"}),
        "text": frozenset({"continuous", "tokens"}),
    }
)


def drift_tests_for_kind(kind: str) -> tuple[str, ...]:
    """The tests a feature of ``kind`` may be pinned to: those that apply to at least one of its
    components (the statistics engine runs the test on each component it applies to)."""
    components = FEATURE_KIND_COMPONENTS.get(kind, frozenset())
    return tuple(t.name for t in _TESTS if t.components & components)


def unknown_test_message(name: object) -> str:
    """The refusal for a name the table lacks, listing the names it has."""
    return f"'{name}' is not a drift test; known tests: {', '.join(DRIFT_TEST_NAMES)}"
