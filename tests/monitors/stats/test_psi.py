"""Population Stability Index: fixed reference bins, empty-bin handling, the 0.1/0.25 bands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitors.stats.binning import bin_counts, bin_index, decile_edges
from monitors.stats.distances import kl_divergence, psi, psi_band


def test_the_published_three_bin_income_example() -> None:
    # GeeksforGeeks, "Population Stability Index (PSI)" (last updated 13 Aug 2025),
    # https://www.geeksforgeeks.org/data-science/population-stability-index-psi/ :
    # expected (2020) low/medium/high income 0.4/0.3/0.3, observed (2021) 0.35/0.25/0.4.
    # Its three terms, (0.35-0.4)ln(0.35/0.4) + (0.25-0.3)ln(0.25/0.3) + (0.4-0.3)ln(0.4/0.3),
    # are 0.006677 + 0.009116 + 0.028768 = 0.04456 (0.0446 to four places): "stable".
    result = psi([0.4, 0.3, 0.3], [0.35, 0.25, 0.4])
    assert result.statistic == pytest.approx(0.04456, abs=5e-6)
    assert round(result.statistic, 4) == 0.0446
    assert result.parameters["band"] == "stable"


def test_psi_by_hand_on_counts() -> None:
    # reference 500/300/200 rows, window 40/30/30 rows
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.3, 0.3])
    expected = float(np.sum((q - p) * np.log(q / p)))
    assert psi([500, 300, 200], [40, 30, 30]).statistic == pytest.approx(expected, rel=1e-12)


def test_an_empty_window_bin_gets_the_epsilon_proportion_instead_of_infinity() -> None:
    result = psi([250, 250, 250, 250], [50, 50, 0, 100])
    p = np.array([0.25, 0.25, 0.25, 0.25])
    q = np.array([0.25, 0.25, 1e-4, 0.5])  # the empty bin is floored at 0.01 %, no renormalising
    assert result.statistic == pytest.approx(float(np.sum((q - p) * np.log(q / p))), rel=1e-12)
    assert result.parameters["empty_window_bins"] == 1
    assert result.parameters["epsilon"] == 1e-4
    assert result.parameters["band"] == "significant"


def test_a_bin_empty_on_both_sides_adds_nothing() -> None:
    assert psi([10, 0, 10], [5, 0, 5]).statistic == 0.0


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.0, "stable"),
        (0.0999, "stable"),
        (0.1, "moderate"),
        (0.2499, "moderate"),
        (0.25, "significant"),
        (3.0, "significant"),
    ],
)
def test_the_bands_are_below_0_1_stable_up_to_0_25_moderate_then_significant(value: float, band: str) -> None:
    assert psi_band(value) == band


def test_psi_is_the_sum_of_the_two_kl_divergences() -> None:
    ref, win = [120, 300, 80, 0], [10, 45, 30, 5]
    both = kl_divergence(ref, win).statistic + kl_divergence(win, ref).statistic
    assert psi(ref, win).statistic == pytest.approx(both, rel=1e-12)


def test_decile_bins_hold_a_tenth_of_a_continuous_reference_each() -> None:
    ref = np.sort(np.random.default_rng(3).normal(size=50_000))
    edges = decile_edges(ref)
    assert edges.size == 9
    assert bin_counts(ref, edges).tolist() == [5_000] * 10


def test_decile_bins_of_tied_data_are_merged_and_none_is_empty() -> None:
    ref = np.sort(np.repeat([0.0, 1.0, 2.0], [6_000, 3_000, 1_000]))
    edges = decile_edges(ref)
    assert edges.tolist() == [0.0, 1.0]
    assert bin_counts(ref, edges).tolist() == [6_000, 3_000, 1_000]


def test_bins_are_right_closed_and_open_at_both_ends() -> None:
    edges = np.array([1.0, 2.0])
    assert bin_index(np.array([-1e300, 1.0, 1.5, 2.0, 2.0000001, 1e300]), edges).tolist() == [
        0,
        0,
        1,
        1,
        2,
        2,
    ]
    sorted_values = np.array([-5.0, 1.0, 1.0, 2.0, 7.0])
    assert bin_counts(sorted_values, edges).tolist() == [3, 1, 1]


def test_a_window_outside_the_reference_range_falls_into_the_outer_bins_not_new_ones() -> None:
    ref = np.sort(np.random.default_rng(4).uniform(0, 1, 10_000))
    edges = decile_edges(ref)
    window = np.sort(np.concatenate([np.full(50, -100.0), np.full(50, 100.0)]))
    counts = bin_counts(window, edges)
    assert counts.tolist() == [50] + [0] * 8 + [50]
    result = psi(bin_counts(ref, edges), counts)
    assert math.isfinite(result.statistic) and result.parameters["band"] == "significant"
