"""Tests on category counts: chi-square of homogeneity, Fisher exact, two-proportion Z.

Inputs are the reference and window counts per category, aligned. Their effect size is the
total variation distance between the two category distributions, ``0.5 * sum |p - q|`` (for a
binary feature: the difference of the two proportions).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from monitors.stats.results import TestResult

FloatArray = npt.NDArray[np.float64]


def _counts(ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    ref = np.asarray(ref_counts, dtype=np.float64)
    win = np.asarray(win_counts, dtype=np.float64)
    if ref.shape != win.shape or ref.ndim != 1 or ref.size == 0:
        raise ValueError(
            f"reference and window counts must be aligned, non-empty 1-D arrays, got shapes "
            f"{ref.shape} and {win.shape}"
        )
    # a NaN or infinity makes the sum non-finite; a negative count shows in the minimum
    if not math.isfinite(ref.sum() + win.sum()) or min(ref.min(), win.min()) < 0:
        raise ValueError("counts must be finite and >= 0")
    return ref, win


def total_variation(ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike) -> float:
    ref, win = _counts(ref_counts, win_counts)
    return float(0.5 * np.abs(ref / ref.sum() - win / win.sum()).sum())


def _empty(test: str, ref: FloatArray, win: FloatArray) -> TestResult | None:
    n, m = int(ref.sum()), int(win.sum())
    if n > 0 and m > 0:
        return None
    side = "reference" if n == 0 else "window"
    return TestResult(
        test=test,
        statistic=None,
        p_value=None,
        method="none",
        n_reference=n,
        n_window=m,
        note=f"the {side} has no non-missing values",
    )


def chi2_homogeneity(
    ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike, *, correction: bool = True
) -> TestResult:
    """Pearson chi-square test of homogeneity on the 2 x k table [reference; window].

    Same semantics as ``scipy.stats.chi2_contingency``: Yates' continuity correction when the
    table has one degree of freedom (and ``correction``), chi2 = 0 and p = 1 when it has none.
    Categories absent on both sides carry no information and are dropped first (scipy would
    refuse the table because an expected frequency is zero).
    """
    ref, win = _counts(ref_counts, win_counts)
    if (empty := _empty("chi2", ref, win)) is not None:
        return empty
    keep = (ref + win) > 0
    observed = np.stack([ref[keep], win[keep]])
    k = observed.shape[1]
    dof = k - 1
    n, m = int(ref.sum()), int(win.sum())
    effect = total_variation(ref, win)
    params = {"dof": dof, "categories": k, "yates": bool(dof == 1 and correction)}
    if dof == 0:
        return TestResult(
            test="chi2",
            statistic=0.0,
            p_value=1.0,
            method="pearson",
            n_reference=n,
            n_window=m,
            effect_size=effect,
            parameters=params,
            note="one category only: no degrees of freedom",
        )
    # expected = outer(row sums, column sums) / total, computed as scipy's expected_freq does
    expected = (observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True)) / (observed.sum())
    if dof == 1 and correction:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = float(((observed - expected) ** 2 / expected).sum())
    p = float(special.chdtrc(dof, stat))
    return TestResult(
        test="chi2",
        statistic=stat,
        p_value=p,
        method="yates" if params["yates"] else "pearson",
        n_reference=n,
        n_window=m,
        effect_size=effect,
        parameters=params,
    )


def fisher_exact_test(ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike) -> TestResult:
    """Two-sided Fisher exact test on [[ref_false, ref_true], [win_false, win_true]].

    The statistic is the sample odds ratio, as scipy returns it; it is None (with a note) when a
    zero cell makes it infinite or undefined, while the p-value stays defined.
    """
    ref, win = _counts(ref_counts, win_counts)
    if ref.size != 2:
        raise ValueError(f"Fisher's exact test needs exactly two categories, got {ref.size}")
    if (empty := _empty("fisher", ref, win)) is not None:
        return empty
    table = np.stack([ref, win]).astype(np.int64)
    res = stats.fisher_exact(table, alternative="two-sided")
    odds = float(res.statistic)
    note = None
    if not math.isfinite(odds):
        note = "odds ratio is infinite or undefined (a zero cell); p-value is exact"
    return TestResult(
        test="fisher",
        statistic=odds if math.isfinite(odds) else None,
        p_value=float(res.pvalue),
        method="exact",
        n_reference=int(ref.sum()),
        n_window=int(win.sum()),
        effect_size=total_variation(ref, win),
        parameters={"alternative": "two-sided"},
        note=note,
    )


def two_proportion_z_test(ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike) -> TestResult:
    """Two-sided two-proportion Z-test with the pooled variance (no continuity correction).

    ``z = (q - p) / sqrt(pool * (1 - pool) * (1/n + 1/m))`` for the proportion of the second
    category; ``z**2`` equals the uncorrected 2 x 2 chi-square. When both samples hold a single
    category the variance is zero: z = 0 and p = 1 (the proportions are identical).
    """
    ref, win = _counts(ref_counts, win_counts)
    if ref.size != 2:
        raise ValueError(f"the two-proportion Z-test needs exactly two categories, got {ref.size}")
    if (empty := _empty("ztest", ref, win)) is not None:
        return empty
    n, m = float(ref.sum()), float(win.sum())
    p_ref, p_win = ref[1] / n, win[1] / m
    pool = (ref[1] + win[1]) / (n + m)
    variance = pool * (1.0 - pool) * (1.0 / n + 1.0 / m)
    params = {"proportion_reference": float(p_ref), "proportion_window": float(p_win)}
    if variance <= 0.0:
        return TestResult(
            test="ztest",
            statistic=0.0,
            p_value=1.0,
            method="pooled",
            n_reference=int(n),
            n_window=int(m),
            effect_size=0.0,
            parameters=params,
            note="both samples hold one category only",
        )
    z = float((p_win - p_ref) / math.sqrt(variance))
    p = float(2.0 * special.ndtr(-abs(z)))
    return TestResult(
        test="ztest",
        statistic=z,
        p_value=p,
        method="pooled",
        n_reference=int(n),
        n_window=int(m),
        effect_size=float(abs(p_win - p_ref)),
        parameters=params,
    )
