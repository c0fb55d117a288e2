"""Two-sample KS from a sorted reference, checked against scipy.stats.ks_2samp."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitors.stats.ks import (
    FAST_MIN_EFFECTIVE_N,
    FAST_P_ABS_TOL,
    FAST_P_REL_TOL,
    choose_method,
    coarse_index,
    fast_p_values,
    ks_statistics,
    ks_test,
)

RNG_SEED = 1234


def samples(kind: str, n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "continuous":
        return rng.normal(size=n), rng.normal(0.1, 1.2, size=m)
    if kind == "integers":  # heavy ties on both sides
        return rng.integers(0, 7, n).astype(float), rng.integers(1, 8, m).astype(float)
    if kind == "rounded":
        return np.round(rng.normal(size=n), 1), np.round(rng.normal(0.05, 1, size=m), 1)
    ref = rng.normal(size=n)  # the window is drawn from the reference's own values
    return ref, ref[rng.integers(0, n, m)]


@pytest.mark.parametrize("kind", ["continuous", "integers", "rounded", "resampled"])
@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 7), (9, 3), (200, 50), (3_000, 700)])
def test_statistic_and_exact_p_value_equal_scipys(kind: str, n: int, m: int) -> None:
    rng = np.random.default_rng(RNG_SEED + n + m)
    ref, win = samples(kind, n, m, rng)
    ours = ks_test(np.sort(ref), win)
    theirs = stats.ks_2samp(ref, win)  # default method: exact at these sizes
    assert ours.method == "exact"
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12, abs=0)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=0)


@pytest.mark.parametrize("kind", ["continuous", "integers", "rounded", "resampled"])
def test_asymp_p_value_equals_scipys_asymp_method(kind: str) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref, win = samples(kind, 12_000, 400, rng)
    ours = ks_test(np.sort(ref), win, method="asymp")
    theirs = stats.ks_2samp(ref, win, method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12, abs=0)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=0)


def test_auto_follows_scipy_up_to_10000_and_goes_fast_above_for_large_effective_sizes() -> None:
    assert choose_method(10_000, 10_000) == "exact"
    assert choose_method(10_001, 50) == "asymp"  # effective size 50 < 1,000: scipy's own method
    assert choose_method(50_000, 5_000) == "asymp_fast"
    assert choose_method(10_001, 1_112) == "asymp_fast"  # round(n*m/(n+m)) = 1,000
    assert choose_method(10_001, 1_110) == "asymp"


def test_fast_p_values_stay_within_the_stated_tolerance_of_scipys_asymp() -> None:
    # Over the whole range of D that matters, for effective sizes from the switch-over up.
    for n, m in [(10_001, 1_112), (20_000, 3_000), (50_000, 5_000), (200_000, 20_000)]:
        e = round(n * m / (n + m))
        assert e >= FAST_MIN_EFFECTIVE_N
        d = np.linspace(0.05, 6.0, 120) / np.sqrt(e)
        fast = fast_p_values(d, n, m)
        scipy_p = stats.kstwo.sf(d, e)
        assert np.all(np.abs(fast - scipy_p) <= FAST_P_ABS_TOL)
        relevant = scipy_p >= 1e-3
        assert np.all(np.abs(fast - scipy_p)[relevant] <= FAST_P_REL_TOL * scipy_p[relevant])


def test_large_samples_use_the_fast_method_and_agree_with_ks_2samp_default() -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref, win = rng.normal(size=50_000), rng.normal(0.03, 1, size=5_000)
    ours = ks_test(np.sort(ref), win)
    theirs = stats.ks_2samp(ref, win)
    assert ours.method == "asymp_fast"
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12, abs=0)
    assert abs(ours.p_value - theirs.pvalue) <= FAST_P_ABS_TOL


def test_a_hand_computed_case() -> None:
    # reference {1, 2, 3, 4}, window {3, 5}: the ECDFs differ most just below 3
    # (F_ref = 2/4, F_win = 0) and after 4 (1 vs 1/2): D = 1/2.
    result = ks_test(np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 3.0]))
    assert result.statistic == 0.5
    # exact two-sided p: of the C(6,2) = 15 equally likely splits, those with D >= 1/2
    assert result.p_value == pytest.approx(stats.ks_2samp([1, 2, 3, 4], [3, 5]).pvalue)


def test_the_batch_with_coarse_indexes_equals_the_direct_statistic_bit_for_bit() -> None:
    rng = np.random.default_rng(RNG_SEED)
    refs, wins = [], []
    for kind in ["continuous", "integers", "rounded", "resampled"] * 3:
        ref, win = samples(kind, int(rng.integers(100, 20_000)), int(rng.integers(1, 3_000)), rng)
        refs.append(np.sort(ref))
        wins.append(np.sort(win))
    batch = ks_statistics(refs, wins, [coarse_index(r) for r in refs])
    for ref, win, d in zip(refs, wins, batch, strict=True):
        assert d == stats.ks_2samp(ref, win, method="asymp").statistic


def test_missing_window_values_are_dropped_and_an_empty_window_is_a_note_not_an_error() -> None:
    ref = np.sort(np.random.default_rng(1).normal(size=100))
    win = np.array([0.1, np.nan, -0.3, np.nan])
    assert ks_test(ref, win).n_window == 2
    empty = ks_test(ref, np.array([np.nan, np.nan]))
    assert empty.statistic is None and empty.p_value is None
    assert empty.note == "the window has no non-missing values"
