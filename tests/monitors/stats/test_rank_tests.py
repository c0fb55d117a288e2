"""Cramér-von Mises and Anderson-Darling k-sample tests against scipy."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from scipy import stats

from monitors.stats.ks import ks_statistic
from monitors.stats.rank_tests import anderson_ksamp_test, cramervonmises_test


def _anderson(ref: np.ndarray, win: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            return stats.anderson_ksamp([ref, win], variant="midrank")
        except TypeError:  # scipy < 1.17
            return stats.anderson_ksamp([ref, win])


@pytest.mark.parametrize(("n", "m"), [(8, 6), (15, 20), (400, 90), (5_000, 800)])
def test_cramer_von_mises_equals_scipys_for_both_methods(n: int, m: int) -> None:
    rng = np.random.default_rng(n * m)
    ref, win = rng.normal(size=n), rng.normal(0.3, 1, size=m)
    ours = cramervonmises_test(np.sort(ref), win)
    theirs = stats.cramervonmises_2samp(ref, win)
    assert ours.method == ("exact" if max(n, m) <= 20 else "asymptotic")
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-300)
    assert ours.effect_size == ks_statistic(np.sort(ref), np.sort(win))


@pytest.mark.parametrize("shift", [0.0, 0.15, 1.0])
def test_anderson_darling_equals_scipys_and_flags_its_clipped_p_values(shift: float) -> None:
    rng = np.random.default_rng(42)
    ref, win = rng.normal(size=3_000), rng.normal(shift, 1, size=500)
    ours = anderson_ksamp_test(np.sort(ref), win)
    theirs = _anderson(ref, win)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours.parameters["p_value_clipped"] == (theirs.pvalue in (0.001, 0.25))


def test_anderson_darling_handles_ties() -> None:
    rng = np.random.default_rng(43)
    ref, win = rng.integers(0, 5, 2_000).astype(float), rng.integers(0, 6, 300).astype(float)
    assert anderson_ksamp_test(np.sort(ref), win).statistic == pytest.approx(
        _anderson(ref, win).statistic, rel=1e-12
    )


def test_rank_tests_on_too_few_or_identical_values_are_notes_not_errors() -> None:
    assert cramervonmises_test(np.array([1.0, 2.0]), np.array([1.5])).statistic is None
    same = anderson_ksamp_test(np.full(10, 2.0), np.full(3, 2.0))
    assert same.statistic is None and same.effect_size == 0.0
