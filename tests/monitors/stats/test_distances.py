"""Jensen-Shannon, Hellinger, KL, Wasserstein and energy distances against scipy or by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from monitors.stats.distances import (
    cdf_gaps,
    energy_distance_test,
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    wasserstein_normalised,
)

REF_COUNTS = [310, 120, 45, 0, 25]
WIN_COUNTS = [20, 31, 12, 7, 0]


@pytest.mark.parametrize("base", [2.0, math.e])
def test_jensen_shannon_equals_scipys(base: float) -> None:
    ours = jensenshannon_distance(REF_COUNTS, WIN_COUNTS, base=base)
    theirs = distance.jensenshannon(REF_COUNTS, WIN_COUNTS, base=base)
    assert ours.statistic == pytest.approx(theirs, rel=1e-12)


def test_jensen_shannon_of_disjoint_distributions_is_one_in_base_two() -> None:
    assert jensenshannon_distance([5, 0], [0, 9]).statistic == pytest.approx(1.0, rel=1e-12)


def test_hellinger_by_hand() -> None:
    # p = (0.5, 0.5), q = (0.9, 0.1): H^2 = 1 - (sqrt(0.45) + sqrt(0.05))
    expected = math.sqrt(1 - (math.sqrt(0.45) + math.sqrt(0.05)))
    assert hellinger_distance([50, 50], [9, 1]).statistic == pytest.approx(expected, rel=1e-12)
    assert hellinger_distance([3, 0], [0, 4]).statistic == pytest.approx(1.0, rel=1e-12)


def test_kl_equals_scipys_entropy_of_the_window_relative_to_the_reference() -> None:
    ref, win = [310, 120, 45, 25], [20, 31, 12, 9]
    ours = kl_divergence(ref, win)
    theirs = stats.entropy(win, ref)
    assert ours.statistic == pytest.approx(theirs, rel=1e-12)


def test_kl_floors_empty_bins_like_psi() -> None:
    result = kl_divergence([50, 50, 0], [40, 40, 20])
    q = np.array([0.4, 0.4, 0.2])
    p = np.array([0.5, 0.5, 1e-4])
    assert result.statistic == pytest.approx(float(np.sum(q * np.log(q / p))), rel=1e-12)


CASES = {
    "continuous": lambda rng: (rng.normal(size=20_000), rng.normal(0.2, 1.3, size=3_000)),
    "ties": lambda rng: (rng.integers(0, 9, 5_000).astype(float), rng.integers(2, 12, 700) * 1.0),
    "tiny": lambda rng: (np.array([1.0, 2.0, 2.0]), np.array([2.0])),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wasserstein_raw_distance_equals_scipys(case: str) -> None:
    ref, win = CASES[case](np.random.default_rng(8))
    result = wasserstein_normalised(np.sort(ref), win)
    assert result.parameters["raw_distance"] == pytest.approx(stats.wasserstein_distance(ref, win), rel=1e-12)
    assert result.statistic == pytest.approx(stats.wasserstein_distance(ref, win) / np.std(ref), rel=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_energy_distance_equals_scipys(case: str) -> None:
    ref, win = CASES[case](np.random.default_rng(9))
    result = energy_distance_test(np.sort(ref), win)
    assert result.statistic == pytest.approx(stats.energy_distance(ref, win), rel=1e-12)
    assert result.effect_size == pytest.approx(result.statistic / math.sqrt(np.std(ref)))


def test_normalised_wasserstein_of_a_location_shift_is_the_shift_in_standard_deviations() -> None:
    ref = np.sort(np.random.default_rng(10).normal(0, 4, size=10_000))
    result = wasserstein_normalised(ref, ref + 2.0)  # 2.0 is half a reference SD (np.std ~ 4)
    assert result.statistic == pytest.approx(2.0 / np.std(ref), rel=1e-9)


def test_cdf_gaps_by_hand() -> None:
    gaps, widths = cdf_gaps(np.array([0.0, 1.0]), np.array([1.0, 3.0]))
    # pooled 0, 1, 1, 3: F_ref - F_win = 1/2 - 0 on [0, 1) and 1 - 1/2 on [1, 3), so the
    # Wasserstein distance is 1/2 + 1 = 3/2 (= (|0 - 1| + |1 - 3|) / 2 by matching quantiles)
    assert widths.tolist() == [1.0, 0.0, 2.0]
    assert float(np.dot(np.abs(gaps), widths)) == 1.5


def test_a_constant_reference_gives_zero_for_an_equal_window_and_drift_otherwise() -> None:
    ref = np.full(100, 3.0)
    same = wasserstein_normalised(ref, np.full(10, 3.0))
    assert same.statistic == 0.0
    other = wasserstein_normalised(ref, np.array([3.0, 4.0]))
    assert other.statistic is None
    assert other.parameters["treated_as_infinite"] is True
    assert "constant" in (other.note or "")
    energy = energy_distance_test(ref, np.array([3.0, 4.0]))
    assert energy.statistic == pytest.approx(stats.energy_distance(ref, [3.0, 4.0]), rel=1e-12)
    assert energy.effect_size is None


def test_distances_of_an_empty_side_are_notes() -> None:
    assert wasserstein_normalised(np.array([1.0]), np.array([np.nan])).statistic is None
    assert jensenshannon_distance([0, 0], [1, 2]).note == "the reference has no non-missing values"
