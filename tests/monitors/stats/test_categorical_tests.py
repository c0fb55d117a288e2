"""Chi-square of homogeneity, Fisher exact and the two-proportion Z-test on counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from monitors.stats.categorical import (
    chi2_homogeneity,
    fisher_exact_test,
    total_variation,
    two_proportion_z_test,
)


@pytest.mark.parametrize(
    ("ref", "win"),
    [
        ([120, 80, 40, 10], [20, 25, 5, 2]),
        ([5000, 3000, 1500, 500], [480, 320, 160, 40]),
        ([1, 0, 3], [0, 2, 1]),
        ([30_000, 20_000], [2_900, 2_100]),  # 2 x 2: Yates' correction
        ([12, 3], [2, 9]),  # 2 x 2 with small counts
        ([10, 10], [10, 10]),  # no difference at all: Yates' adjustment is capped
    ],
)
def test_chi2_equals_scipys_chi2_contingency(ref: list[int], win: list[int]) -> None:
    ours = chi2_homogeneity(ref, win)
    theirs = stats.chi2_contingency(np.array([ref, win]))
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12, abs=1e-300)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=0)
    assert ours.parameters["dof"] == theirs.dof
    assert ours.method == ("yates" if theirs.dof == 1 else "pearson")


def test_chi2_without_correction_equals_scipys_uncorrected_statistic() -> None:
    ours = chi2_homogeneity([30, 70], [45, 55], correction=False)
    theirs = stats.chi2_contingency(np.array([[30, 70], [45, 55]]), correction=False)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_chi2_of_a_hand_computed_table() -> None:
    # [[10, 20], [20, 10]] is 2 x 2, so Yates applies: expected 15 everywhere, |O - E| = 5,
    # corrected 4.5; chi2 = 4 * 4.5^2 / 15 = 5.4; p = P(chi2_1 > 5.4) = erfc(sqrt(2.7)).
    result = chi2_homogeneity([10, 20], [20, 10])
    assert result.statistic == pytest.approx(5.4, rel=1e-12)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(2.7)), rel=1e-12)


def test_categories_absent_on_both_sides_are_dropped_where_scipy_would_refuse() -> None:
    with pytest.raises(ValueError, match="zero element"):
        stats.chi2_contingency(np.array([[5, 0, 7], [3, 0, 2]]))
    ours = chi2_homogeneity([5, 0, 7], [3, 0, 2])
    theirs = stats.chi2_contingency(np.array([[5, 7], [3, 2]]))
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.parameters["categories"] == 2


def test_a_category_on_one_side_only_is_part_of_the_test() -> None:
    ours = chi2_homogeneity([500, 500, 0], [40, 40, 20])
    theirs = stats.chi2_contingency(np.array([[500, 500, 0], [40, 40, 20]]))
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p_value < 1e-20


def test_a_single_category_has_no_degrees_of_freedom() -> None:
    result = chi2_homogeneity([100, 0], [7, 0])
    assert (result.statistic, result.p_value) == (0.0, 1.0)
    assert result.parameters["dof"] == 0


@pytest.mark.parametrize(
    ("ref", "win"),
    [([8, 2], [1, 5]), ([4500, 500], [430, 70]), ([0, 10], [3, 7]), ([10, 0], [10, 0])],
)
def test_fisher_equals_scipys_fisher_exact(ref: list[int], win: list[int]) -> None:
    ours = fisher_exact_test(ref, win)
    theirs = stats.fisher_exact(np.array([ref, win]))
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=0)
    if math.isfinite(theirs.statistic):
        assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    else:
        assert ours.statistic is None
        assert "zero cell" in (ours.note or "")


def test_the_z_test_squared_is_the_uncorrected_chi_square() -> None:
    for ref, win in [([700, 300], [620, 380]), ([49_000, 1_000], [4_880, 120]), ([3, 9], [6, 2])]:
        z = two_proportion_z_test(ref, win)
        chi2 = stats.chi2_contingency(np.array([ref, win]), correction=False)
        assert z.statistic**2 == pytest.approx(chi2.statistic, rel=1e-12)
        assert z.p_value == pytest.approx(chi2.pvalue, rel=1e-9)


def test_the_z_test_by_hand() -> None:
    # p_ref = 30/100, p_win = 45/100, pooled 0.375: z = 0.15 / sqrt(0.375*0.625*0.02) = 2.1909
    result = two_proportion_z_test([70, 30], [55, 45])
    assert result.statistic == pytest.approx(0.15 / math.sqrt(0.375 * 0.625 * 0.02), rel=1e-12)
    assert result.effect_size == pytest.approx(0.15, rel=1e-12)


def test_a_z_test_on_samples_holding_one_category_reports_no_difference() -> None:
    result = two_proportion_z_test([0, 50], [0, 5])
    assert (result.statistic, result.p_value, result.effect_size) == (0.0, 1.0, 0.0)


def test_total_variation_is_half_the_l1_distance_of_the_proportions() -> None:
    assert total_variation([50, 30, 20], [10, 10, 80]) == pytest.approx(0.6)
    assert total_variation([1, 1], [5, 5]) == 0.0


@pytest.mark.parametrize(
    ("ref", "win", "message"),
    [
        ([1, 2], [1, 2, 3], "aligned"),
        ([1, -2], [1, 2], ">= 0"),
        ([1, np.nan], [1, 2], "finite"),
    ],
)
def test_malformed_counts_are_refused(ref: list[float], win: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        chi2_homogeneity(ref, win)
