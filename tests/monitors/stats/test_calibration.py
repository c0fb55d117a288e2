"""Calibration and power of the significance tests by simulation (fixed seeds).

Sizes as in production: a 50,000-row reference against a 5,000-row window, which is where the
KS test uses its fast large-sample p-value. Calibration: on 2,000 draws without any shift, the
share of p-values below 0.05 must lie inside the two-sided 99 % binomial interval around 0.05
(Fisher's exact test, conservative by construction, only below its upper end). Power: for a
mean shift of 0.1 standard deviations at least 90 % of 200 draws must be significant.
Drawing category counts from the multinomial (or binomial) distribution is the same as drawing
rows and counting them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from monitors.stats import chi2_homogeneity, fisher_exact_test, ks_test, two_proportion_z_test

N_REFERENCE, N_WINDOW = 50_000, 5_000
ALPHA = 0.05
NULL_DRAWS = 2_000
POWER_DRAWS = 200
SHIFT_SD = 0.1
CATEGORY_P = np.array([0.35, 0.25, 0.2, 0.12, 0.08])

pytestmark = pytest.mark.slow


def binomial_interval(draws: int, level: float = 0.99) -> tuple[int, int]:
    tail = (1 - level) / 2
    return int(stats.binom.ppf(tail, draws, ALPHA)), int(stats.binom.ppf(1 - tail, draws, ALPHA))


def false_alarms(draw_p_value: Callable[[np.random.Generator], float], seed: int) -> int:
    rng = np.random.default_rng(seed)
    return sum(draw_p_value(rng) < ALPHA for _ in range(NULL_DRAWS))


def power(draw_p_value: Callable[[np.random.Generator], float], seed: int) -> float:
    rng = np.random.default_rng(seed)
    return sum(draw_p_value(rng) < ALPHA for _ in range(POWER_DRAWS)) / POWER_DRAWS


def ks_p(rng: np.random.Generator, shift: float = 0.0) -> float:
    reference = np.sort(rng.normal(0.0, 1.0, N_REFERENCE))
    result = ks_test(reference, rng.normal(shift, 1.0, N_WINDOW))
    assert result.method == "asymp_fast"
    return float(result.p_value)  # type: ignore[arg-type]


def category_p(shift: float) -> np.ndarray:
    """Five categories cut from a normal latent variable, shifted by ``shift`` SD."""
    cuts = stats.norm.ppf(np.cumsum(CATEGORY_P)[:-1])
    cdf = np.concatenate([[0.0], stats.norm.cdf(cuts - shift), [1.0]])
    return np.diff(cdf)


def chi2_p(rng: np.random.Generator, shift: float = 0.0) -> float:
    reference = rng.multinomial(N_REFERENCE, category_p(0.0))
    window = rng.multinomial(N_WINDOW, category_p(shift))
    return float(chi2_homogeneity(reference, window).p_value)  # type: ignore[arg-type]


def binary_counts(rng: np.random.Generator, shift: float) -> tuple[list[int], list[int]]:
    # a normal latent variable above 0: proportion 0.5 in the reference, Phi(shift) after
    p_ref, p_win = 0.5, float(stats.norm.cdf(shift))
    ones_ref, ones_win = rng.binomial(N_REFERENCE, p_ref), rng.binomial(N_WINDOW, p_win)
    return [N_REFERENCE - ones_ref, ones_ref], [N_WINDOW - ones_win, ones_win]


def fisher_p(rng: np.random.Generator, shift: float = 0.0) -> float:
    return float(fisher_exact_test(*binary_counts(rng, shift)).p_value)  # type: ignore[arg-type]


def ztest_p(rng: np.random.Generator, shift: float = 0.0) -> float:
    return float(two_proportion_z_test(*binary_counts(rng, shift)).p_value)  # type: ignore[arg-type]


def test_the_99_percent_interval_for_2000_draws_at_5_percent() -> None:
    # Binomial(2000, 0.05): P(X <= 75) = 0.0046 and P(X >= 127) = 0.0043, each below 0.005,
    # so 76..126 false alarms (3.8 % to 6.3 %) is the central 99 % range.
    assert binomial_interval(NULL_DRAWS) == (76, 126)


def test_ks_false_alarm_rate_is_nominal() -> None:
    low, high = binomial_interval(NULL_DRAWS)
    assert low <= false_alarms(ks_p, seed=101) <= high


def test_chi_square_false_alarm_rate_is_nominal() -> None:
    low, high = binomial_interval(NULL_DRAWS)
    assert low <= false_alarms(chi2_p, seed=102) <= high


def test_two_proportion_z_false_alarm_rate_is_nominal() -> None:
    low, high = binomial_interval(NULL_DRAWS)
    assert low <= false_alarms(ztest_p, seed=103) <= high


def test_fishers_exact_test_false_alarm_rate_stays_below_the_upper_bound() -> None:
    _, high = binomial_interval(NULL_DRAWS)
    assert false_alarms(fisher_p, seed=104) <= high


@pytest.mark.parametrize("draw", [ks_p, chi2_p, fisher_p, ztest_p], ids=["ks", "chi2", "fisher", "ztest"])
def test_power_for_a_tenth_of_a_standard_deviation_is_at_least_90_percent(
    draw: Callable[..., float],
) -> None:
    assert power(lambda rng: draw(rng, SHIFT_SD), seed=201) >= 0.9
