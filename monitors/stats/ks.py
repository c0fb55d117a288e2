"""Two-sample Kolmogorov-Smirnov test from a precomputed sorted reference.

The statistic needs the two empirical CDFs only at the window's points, taken from the left and
from the right: with the window sorted, ``searchsorted`` of the window into the sorted reference
gives the reference counts below each window point, so the reference is never re-sorted or
merged. The statistic equals ``scipy.stats.ks_2samp``'s bit for bit in practice (the same
fractions are computed).

p-value methods (``method=``):

``exact``       scipy's exact distribution (``ks_2samp(method="exact")``), as scipy uses it
                when both samples have at most 10,000 values.
``asymp``       scipy's asymptotic method: ``kstwo.sf(D, round(n*m/(n+m)))``.
``asymp_fast``  the limiting Kolmogorov distribution (``kstwobign``) with Vrbik's small-sample
                correction, ``K(sqrt(e)*D + 1/(6 sqrt(e)) + (sqrt(e)*D - 1)/(4e))`` with
                ``e = round(n*m/(n+m))``. Microseconds instead of milliseconds; within
                ``FAST_P_ABS_TOL`` (absolute) and ``FAST_P_REL_TOL`` (relative, where scipy's
                p >= 1e-3) of scipy's ``asymp`` from ``e >= FAST_MIN_EFFECTIVE_N``.
``auto``        ``exact`` when both sizes are <= 10,000 (scipy's own rule); otherwise
                ``asymp_fast`` when ``e >= FAST_MIN_EFFECTIVE_N``, else ``asymp``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from monitors.stats.results import TestResult

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
KSMethod = Literal["auto", "exact", "asymp", "asymp_fast"]

EXACT_MAX_N = 10_000  # scipy's MAX_AUTO_N in ks_2samp
FAST_MIN_EFFECTIVE_N = 1_000
FAST_P_ABS_TOL = 3e-5
FAST_P_REL_TOL = 5e-3


def ks_statistic(sorted_reference: FloatArray, sorted_window: FloatArray) -> float:
    """sup |F_ref - F_win| for two sorted, NaN-free, non-empty samples."""
    left = np.searchsorted(sorted_reference, sorted_window, side="left")
    right = _right_counts(sorted_reference, sorted_window, left)
    return _statistic_from_counts(left, right, sorted_reference.size, sorted_window.size)


def _right_counts(ref: FloatArray, win: FloatArray, left: IntArray) -> IntArray:
    # Reference values equal to a window value make the right limit differ from the left one;
    # for continuous data there are none, so one search usually suffices.
    n = ref.size
    probe = ref[np.minimum(left, n - 1)]
    tied = (probe == win) & (left < n)
    if not tied.any():
        return left
    right = left.copy()
    right[tied] = np.searchsorted(ref, win[tied], side="right")
    return right


def _statistic_from_counts(left: IntArray, right: IntArray, n: int, m: int) -> float:
    i = np.arange(m, dtype=np.float64)
    # sup(F_ref - F_win) is approached just left of a window point; sup(F_win - F_ref) is at
    # a window point. For tied window points the first (resp. last) of the run is the extreme.
    d_plus = float(np.max(left / n - i / m))
    d_minus = float(np.max((i + 1.0) / m - right / n))
    return max(d_plus, d_minus, 0.0)


COARSE_STEP = 32


def coarse_index(sorted_reference: FloatArray) -> FloatArray:
    """Every ``COARSE_STEP``-th reference value: small enough to stay in the L1 cache."""
    out: FloatArray = np.ascontiguousarray(sorted_reference[COARSE_STEP - 1 :: COARSE_STEP])
    return out


def ks_statistics(
    sorted_references: Sequence[FloatArray],
    sorted_windows: Sequence[FloatArray],
    coarse: Sequence[FloatArray] | None = None,
) -> FloatArray:
    """KS statistics for many columns (each pair sorted, NaN-free, non-empty).

    With ``coarse`` indexes (see :func:`coarse_index`), a search in the small index brackets
    every window point's reference count within ``COARSE_STEP``; that bounds each point's
    contribution to D, and only points whose upper bound reaches the best lower bound are
    searched exactly in the full reference. The result is identical to the direct method
    (same fractions, same floating-point operations), typically for a few percent of the
    binary searches.
    """
    out = np.empty(len(sorted_references))
    steps: dict[int, tuple[FloatArray, FloatArray]] = {}
    for c, (ref, win) in enumerate(zip(sorted_references, sorted_windows, strict=True)):
        m = win.size
        if m not in steps:
            i = np.arange(m, dtype=np.float64)
            steps[m] = (i / m, (i + 1.0) / m)
        below, upto = steps[m]
        index = coarse[c] if coarse is not None else None
        if index is None or index.size < 16:
            left = np.searchsorted(ref, win, side="left")
            right = _right_counts(ref, win, left)
            out[c] = max((left / ref.size - below).max(), (upto - right / ref.size).max(), 0.0)
        else:
            out[c] = _bracketed_statistic(ref, win, index, below, upto)
    return out


def _bracketed_statistic(
    ref: FloatArray, win: FloatArray, index: FloatArray, below: FloatArray, upto: FloatArray
) -> float:
    n, m, step = ref.size, win.size, COARSE_STEP
    # index[j] = ref[(j + 1) * step - 1]: with c index values below w, the number of reference
    # values below w lies in [c * step, c * step + step - 1]; likewise at or below w.
    # The index is shorter than the window, so count from its side: index[j] < win[i] exactly
    # when i >= (number of window values <= index[j]), and a cumulative count gives c per i.
    at_or_below = np.searchsorted(win, index, side="right")
    c_left = np.cumsum(np.bincount(at_or_below, minlength=m + 1))[:m]
    below_index = np.searchsorted(win, index, side="left")
    if np.array_equal(at_or_below, below_index):  # no window value equals an index value
        c_right = c_left
    else:
        c_right = np.cumsum(np.bincount(below_index, minlength=m + 1))[:m]
    width = step / n
    plus_high = c_left * width - (below - (step - 1) / n)
    minus_high = upto - c_right * width
    # Each bound is within `width` of the point's exact value, so the best exact value is at
    # least max(bound) - width. The slack absorbs rounding: it only admits more candidates.
    slack = 1e-9
    floor = max(plus_high.max(), minus_high.max()) - width - slack
    best = 0.0
    plus = np.flatnonzero(plus_high >= floor)
    if plus.size:
        exact = np.searchsorted(ref, win[plus], side="left")
        best = max(best, (exact / n - below[plus]).max())
    minus = np.flatnonzero(minus_high >= floor)
    if minus.size:
        exact = np.searchsorted(ref, win[minus], side="right")
        best = max(best, (upto[minus] - exact / n).max())
    return float(best)


def effective_size(n: int, m: int) -> float:
    big, small = (float(n), float(m)) if n >= m else (float(m), float(n))
    return big * small / (big + small)


def choose_method(n: int, m: int) -> Literal["exact", "asymp", "asymp_fast"]:
    if max(n, m) <= EXACT_MAX_N:
        return "exact"
    if round(effective_size(n, m)) >= FAST_MIN_EFFECTIVE_N:
        return "asymp_fast"
    return "asymp"


def fast_p_values(d: FloatArray, n: npt.ArrayLike, m: npt.ArrayLike) -> FloatArray:
    """``asymp_fast`` p-values, vectorised over columns."""
    n_arr = np.asarray(n, dtype=np.float64)
    m_arr = np.asarray(m, dtype=np.float64)
    big = np.maximum(n_arr, m_arr)
    small = np.minimum(n_arr, m_arr)
    e = np.round(big * small / (big + small))
    root = np.sqrt(e)
    x = root * d + 1.0 / (6.0 * root) + (root * d - 1.0) / (4.0 * e)
    p: FloatArray = np.clip(special.kolmogorov(x), 0.0, 1.0)
    return p


def asymp_p_value(d: float, n: int, m: int) -> float:
    """scipy's ``asymp`` p-value, computed the way ``ks_2samp`` does."""
    e = np.round(effective_size(n, m))
    return float(np.clip(stats.kstwo.sf(d, e), 0.0, 1.0))


def exact_p_value(sorted_reference: FloatArray, window: FloatArray) -> tuple[float, str]:
    """scipy's exact p-value; scipy may fall back to ``asymp`` and says so in a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(sorted_reference, window, method="exact")
    fell_back = any("Switching to" in str(w.message) for w in caught)
    return float(res.pvalue), ("asymp" if fell_back else "exact")


def ks_test(
    sorted_reference: FloatArray,
    window: FloatArray,
    *,
    method: KSMethod = "auto",
    window_sorted: bool = False,
) -> TestResult:
    """Two-sided two-sample KS test of ``window`` against a sorted reference.

    NaNs are dropped from the window (the reference is expected NaN-free, as profiles store it).
    An empty side gives a result with ``statistic=None`` and a note instead of an error.
    """
    ref = np.asarray(sorted_reference, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    win = win[~np.isnan(win)]
    if not window_sorted:
        win = np.sort(win)
    n, m = ref.size, win.size
    if n == 0 or m == 0:
        side = "reference" if n == 0 else "window"
        return TestResult(
            test="ks",
            statistic=None,
            p_value=None,
            method="none",
            n_reference=n,
            n_window=m,
            note=f"the {side} has no non-missing values",
        )
    d = ks_statistic(ref, win)
    chosen: str = choose_method(n, m) if method == "auto" else method
    if chosen == "exact":
        p, chosen = exact_p_value(ref, win)
        if chosen == "asymp":  # scipy could not compute the exact distribution
            p = asymp_p_value(d, n, m)
    elif chosen == "asymp":
        p = asymp_p_value(d, n, m)
    elif chosen == "asymp_fast":
        p = float(fast_p_values(np.array([d]), n, m)[0])
    else:
        raise ValueError(f"unknown KS method {method!r}")
    return TestResult(
        test="ks",
        statistic=d,
        p_value=p,
        method=chosen,
        n_reference=n,
        n_window=m,
        effect_size=d,
        parameters={"effective_n": round(effective_size(n, m)), "alternative": "two-sided"},
    )
