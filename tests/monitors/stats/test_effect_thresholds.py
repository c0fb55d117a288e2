"""Each default effect-size threshold ignores the shift docs/stats.md says it ignores.

Shifts are location shifts of a standard normal feature, in standard deviations; the binned
distances use the reference's decile bins. Population values come from the normal CDF (bin
probabilities passed as counts) or, for the sample-based statistics, from 200,000 evenly spaced
normal quantiles, which are within 1e-5 of the population.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from monitors.stats import (
    DEFAULT_THRESHOLDS,
    energy_distance_test,
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    ks_test,
    psi,
    two_proportion_z_test,
    wasserstein_normalised,
)
from monitors.stats.results import TestResult

QUANTILES = stats.norm.ppf((np.arange(200_000) + 0.5) / 200_000)
DECILE_CUTS = stats.norm.ppf(np.arange(1, 10) / 10)


def binned(fn: Callable[..., TestResult]) -> Callable[[float], float]:
    def effect(shift: float) -> float:
        cdf = np.concatenate([[0.0], stats.norm.cdf(DECILE_CUTS - shift), [1.0]])
        result = fn(np.full(10, 0.1), np.diff(cdf))
        assert result.effect_size is not None
        return result.effect_size

    return effect


def sampled(fn: Callable[..., TestResult]) -> Callable[[float], float]:
    def effect(shift: float) -> float:
        result = fn(QUANTILES, QUANTILES + shift)
        assert result.effect_size is not None
        return result.effect_size

    return effect


def binary(shift: float) -> float:
    # a latent normal above its median: proportion 0.5 before, Phi(shift) after
    p = float(stats.norm.cdf(shift))
    result = two_proportion_z_test([500_000, 500_000], [1e6 * (1 - p), 1e6 * p])
    assert result.effect_size is not None
    return result.effect_size


# (test, effect size as a function of the shift, the shift docs/stats.md says it ignores)
DOCUMENTED = [
    ("ks", sampled(ks_test), 0.050),
    ("ztest", binary, 0.050),
    ("psi", binned(psi), 0.51),
    ("jensenshannon", binned(jensenshannon_distance), 0.24),
    ("hellinger", binned(hellinger_distance), 0.29),
    ("kl", binned(kl_divergence), 0.46),
    ("wasserstein", sampled(wasserstein_normalised), 0.10),
    ("energy", sampled(energy_distance_test), 0.10),
]


@pytest.mark.parametrize(("test", "effect", "ignored"), DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_the_threshold_ignores_the_documented_shift_and_catches_a_slightly_larger_one(
    test: str, effect: Callable[[float], float], ignored: float
) -> None:
    threshold = DEFAULT_THRESHOLDS[test]
    assert effect(ignored * 0.97) < threshold < effect(ignored * 1.03)


def test_the_psi_moderate_band_starts_near_a_third_of_a_standard_deviation() -> None:
    effect = binned(psi)
    assert effect(0.32 * 0.97) < 0.1 < effect(0.32 * 1.03)
