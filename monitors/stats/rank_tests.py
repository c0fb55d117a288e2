"""Cramér-von Mises and Anderson-Darling k-sample tests.

Both are rank tests on the pooled sample, so they are computed by scipy itself (statistic and
p-value are scipy's, method for method). Their effect size is the KS distance D, the largest gap
between the two empirical CDFs, computed from the sorted reference; it is what their
effect-size threshold compares against.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
from scipy import stats

from monitors.stats.ks import ks_statistic
from monitors.stats.results import TestResult

FloatArray = npt.NDArray[np.float64]

CVM_EXACT_MAX_N = 20  # scipy's rule in cramervonmises_2samp(method="auto")
AD_P_FLOOR = 0.001
AD_P_CAP = 0.25


def _prepare(
    test: str, sorted_reference: FloatArray, window: FloatArray, minimum: int
) -> tuple[FloatArray, FloatArray, TestResult | None]:
    ref = np.asarray(sorted_reference, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    win = np.sort(win[~np.isnan(win)])
    if ref.size < minimum or win.size < minimum:
        side = "reference" if ref.size < minimum else "window"
        return (
            ref,
            win,
            TestResult(
                test=test,
                statistic=None,
                p_value=None,
                method="none",
                n_reference=ref.size,
                n_window=win.size,
                note=f"the {side} has fewer than {minimum} non-missing values",
            ),
        )
    return ref, win, None


def cramervonmises_test(sorted_reference: FloatArray, window: FloatArray) -> TestResult:
    """``scipy.stats.cramervonmises_2samp`` (method "auto": exact up to 20 values per side)."""
    ref, win, skipped = _prepare("cvm", sorted_reference, window, 2)
    if skipped is not None:
        return skipped
    method = "exact" if max(ref.size, win.size) <= CVM_EXACT_MAX_N else "asymptotic"
    res = stats.cramervonmises_2samp(ref, win, method=method)
    return TestResult(
        test="cvm",
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        method=method,
        n_reference=ref.size,
        n_window=win.size,
        effect_size=ks_statistic(ref, win),
    )


def anderson_ksamp_test(sorted_reference: FloatArray, window: FloatArray) -> TestResult:
    """``scipy.stats.anderson_ksamp`` on [reference, window], midrank variant.

    scipy interpolates the p-value from Scholz and Stephens' table and clips it to
    [0.001, 0.25]; ``parameters["p_value_clipped"]`` says when that happened.
    """
    ref, win, skipped = _prepare("anderson", sorted_reference, window, 1)
    if skipped is not None:
        return skipped
    if ref[0] == ref[-1] == win[0] == win[-1]:
        return TestResult(
            test="anderson",
            statistic=None,
            p_value=None,
            method="none",
            n_reference=ref.size,
            n_window=win.size,
            effect_size=0.0,
            note="all values are equal: the test is undefined and there is no difference",
        )
    with warnings.catch_warnings():
        # the p-value clipping warning is recorded in parameters instead
        warnings.simplefilter("ignore", UserWarning)
        try:
            res = stats.anderson_ksamp([ref, win], variant="midrank")
        except TypeError:  # scipy < 1.17 has no `variant`; midrank is its default there
            res = stats.anderson_ksamp([ref, win])
    p = float(res.pvalue)
    return TestResult(
        test="anderson",
        statistic=float(res.statistic),
        p_value=p,
        method="midrank_table",
        n_reference=ref.size,
        n_window=win.size,
        effect_size=ks_statistic(ref, win),
        parameters={"p_value_clipped": bool(p <= AD_P_FLOOR or p >= AD_P_CAP)},
    )
