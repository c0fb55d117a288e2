"""Distances between the reference and the window.

Binned distances (PSI, Jensen-Shannon, Hellinger, Kullback-Leibler) take aligned counts: the
profile's fixed PSI bins for numeric columns, the categories for categorical ones. Sample
distances (Wasserstein, energy) take the sorted reference and the window.

Empty bins: PSI and KL give any bin with a zero count on one side the proportion
``epsilon`` (default 1e-4, i.e. 0.01 %) on that side instead of 0, without renormalising, so an
emptied or newly filled bin adds a large but finite term. Jensen-Shannon and Hellinger are
finite with zeros and need no floor.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from monitors.stats.categorical import _counts
from monitors.stats.results import TestResult

FloatArray = npt.NDArray[np.float64]

PSI_EPSILON = 1e-4
PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25

PSIBand = Literal["stable", "moderate", "significant"]


def psi_band(value: float) -> PSIBand:
    """The industry bands: below 0.1 stable, 0.1 to 0.25 moderate, 0.25 and above significant."""
    if value < PSI_MODERATE:
        return "stable"
    if value < PSI_SIGNIFICANT:
        return "moderate"
    return "significant"


def _proportions(
    ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike, test: str
) -> tuple[FloatArray, FloatArray, int, int, TestResult | None]:
    ref, win = _counts(ref_counts, win_counts)
    n, m = float(ref.sum()), float(win.sum())
    if n <= 0 or m <= 0:
        side = "reference" if n <= 0 else "window"
        empty = TestResult(
            test=test,
            statistic=None,
            p_value=None,
            method="none",
            n_reference=int(n),
            n_window=int(m),
            note=f"the {side} has no non-missing values",
        )
        return ref, win, int(n), int(m), empty
    return ref / n, win / m, int(n), int(m), None


def _floored(p: FloatArray, epsilon: float) -> FloatArray:
    out: FloatArray = np.where(p > 0.0, p, epsilon)
    return out


def psi(ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike, *, epsilon: float = PSI_EPSILON) -> TestResult:
    """Population Stability Index: ``sum((q - p) * ln(q / p))``, p reference, q window."""
    p, q, n, m, empty = _proportions(ref_counts, win_counts, "psi")
    if empty is not None:
        return empty
    pf, qf = _floored(p, epsilon), _floored(q, epsilon)
    value = float(np.sum((qf - pf) * np.log(qf / pf)))
    return TestResult(
        test="psi",
        statistic=value,
        p_value=None,
        method="fixed_bins",
        n_reference=n,
        n_window=m,
        effect_size=value,
        parameters={
            "bins": int(p.size),
            "epsilon": epsilon,
            "empty_reference_bins": int(np.count_nonzero(p == 0)),
            "empty_window_bins": int(np.count_nonzero(q == 0)),
            "band": psi_band(value),
        },
    )


def jensenshannon_distance(
    ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike, *, base: float = 2.0
) -> TestResult:
    """Jensen-Shannon distance (the square root of the divergence), as scipy computes it.

    With ``base=2`` (the default here; scipy's default is e) it lies in [0, 1].
    """
    p, q, n, m, empty = _proportions(ref_counts, win_counts, "jensenshannon")
    if empty is not None:
        return empty
    mid = (p + q) / 2.0
    js = np.sum(special.rel_entr(p, mid)) + np.sum(special.rel_entr(q, mid))
    js /= np.log(base)
    value = math.sqrt(max(float(js) / 2.0, 0.0))
    return TestResult(
        test="jensenshannon",
        statistic=value,
        p_value=None,
        method="binned",
        n_reference=n,
        n_window=m,
        effect_size=value,
        parameters={"base": base, "bins": int(p.size)},
    )


def hellinger_distance(ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike) -> TestResult:
    """Hellinger distance ``sqrt(0.5 * sum((sqrt(p) - sqrt(q))**2))``, in [0, 1]."""
    p, q, n, m, empty = _proportions(ref_counts, win_counts, "hellinger")
    if empty is not None:
        return empty
    value = math.sqrt(0.5 * float(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))
    return TestResult(
        test="hellinger",
        statistic=value,
        p_value=None,
        method="binned",
        n_reference=n,
        n_window=m,
        effect_size=value,
        parameters={"bins": int(p.size)},
    )


def kl_divergence(
    ref_counts: npt.ArrayLike, win_counts: npt.ArrayLike, *, epsilon: float = PSI_EPSILON
) -> TestResult:
    """Kullback-Leibler divergence of the window from the reference, ``sum(q * ln(q / p))``.

    Zero proportions are floored at ``epsilon`` as for PSI (so that PSI = KL(q||p) + KL(p||q)).
    """
    p, q, n, m, empty = _proportions(ref_counts, win_counts, "kl")
    if empty is not None:
        return empty
    pf, qf = _floored(p, epsilon), _floored(q, epsilon)
    value = float(np.sum(special.rel_entr(qf, pf)))
    return TestResult(
        test="kl",
        statistic=value,
        p_value=None,
        method="binned",
        n_reference=n,
        n_window=m,
        effect_size=value,
        parameters={"epsilon": epsilon, "bins": int(p.size), "direction": "window||reference"},
    )


def cdf_gaps(sorted_reference: FloatArray, sorted_window: FloatArray) -> tuple[FloatArray, FloatArray]:
    """F_ref - F_win between consecutive pooled values, and the widths of those gaps.

    A stable merge of the two sorted samples (linear: timsort finds the two runs) gives both
    empirical CDFs by counting; wherever the gap to the next value is non-zero, those counts
    are the right limits that ``scipy.stats``' ``_cdf_distance`` computes by binary search.
    """
    n, m = sorted_reference.size, sorted_window.size
    pooled = np.concatenate([sorted_reference, sorted_window])
    order = np.argsort(pooled, kind="stable")
    merged = pooled[order]
    ref_below = np.cumsum(order < n)[:-1]
    win_below = np.arange(1, n + m, dtype=np.int64) - ref_below
    gaps = ref_below / n - win_below / m
    widths: FloatArray = np.diff(merged)
    return gaps, widths


def _sample_distance(
    test: str, sorted_reference: FloatArray, window: FloatArray, window_sorted: bool
) -> tuple[FloatArray, FloatArray, float, TestResult | None]:
    ref = np.asarray(sorted_reference, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    win = win[~np.isnan(win)]
    if not window_sorted:
        win = np.sort(win)
    if ref.size == 0 or win.size == 0:
        side = "reference" if ref.size == 0 else "window"
        empty = TestResult(
            test=test,
            statistic=None,
            p_value=None,
            method="none",
            n_reference=ref.size,
            n_window=win.size,
            note=f"the {side} has no non-missing values",
        )
        return ref, win, 0.0, empty
    return ref, win, float(np.std(ref)), None


def _undefined_normaliser(test: str, ref: FloatArray, win: FloatArray, raw: float) -> TestResult:
    # A constant reference has no spread to normalise by. Equal windows are at distance 0;
    # any other window is infinitely far in these units, which JSON cannot carry.
    if raw == 0.0:
        return TestResult(
            test=test,
            statistic=0.0,
            p_value=None,
            method="normalised",
            n_reference=ref.size,
            n_window=win.size,
            effect_size=0.0,
            parameters={"raw_distance": 0.0, "reference_std": 0.0},
        )
    return TestResult(
        test=test,
        statistic=None,
        p_value=None,
        method="normalised",
        n_reference=ref.size,
        n_window=win.size,
        parameters={"raw_distance": raw, "reference_std": 0.0, "treated_as_infinite": True},
        note="the reference is constant and the window is not: the normalised distance is "
        "infinite; treated as drifted",
    )


def wasserstein_normalised(
    sorted_reference: FloatArray, window: FloatArray, *, window_sorted: bool = False
) -> TestResult:
    """Wasserstein-1 distance divided by the reference standard deviation (ddof=0).

    ``parameters["raw_distance"]`` equals ``scipy.stats.wasserstein_distance(ref, window)``.
    For a location shift the statistic is the shift in reference standard deviations.
    """
    ref, win, std, empty = _sample_distance("wasserstein", sorted_reference, window, window_sorted)
    if empty is not None:
        return empty
    gaps, widths = cdf_gaps(ref, win)
    raw = float(np.dot(np.abs(gaps), widths))
    if std == 0.0:
        return _undefined_normaliser("wasserstein", ref, win, raw)
    value = raw / std
    return TestResult(
        test="wasserstein",
        statistic=value,
        p_value=None,
        method="normalised",
        n_reference=ref.size,
        n_window=win.size,
        effect_size=value,
        parameters={"raw_distance": raw, "reference_std": std},
    )


def energy_distance_test(
    sorted_reference: FloatArray, window: FloatArray, *, window_sorted: bool = False
) -> TestResult:
    """Energy distance as ``scipy.stats.energy_distance`` defines it: ``sqrt(2 * int (F-G)^2)``.

    The statistic keeps scipy's definition (units: square root of the feature's units); the
    effect size divides it by the square root of the reference standard deviation so that one
    threshold serves every feature.
    """
    ref, win, std, empty = _sample_distance("energy", sorted_reference, window, window_sorted)
    if empty is not None:
        return empty
    gaps, widths = cdf_gaps(ref, win)
    raw = math.sqrt(2.0) * math.sqrt(float(np.dot(np.square(gaps), widths)))
    if std == 0.0:
        result = _undefined_normaliser("energy", ref, win, raw)
        # The statistic is scipy's raw distance whatever the reference's spread; only the
        # normalised effect size is undefined.
        return result if result.statistic is not None else dataclasses.replace(result, statistic=raw)
    return TestResult(
        test="energy",
        statistic=raw,
        p_value=None,
        method="normalised",
        n_reference=ref.size,
        n_window=win.size,
        effect_size=raw / math.sqrt(std),
        parameters={"reference_std": std},
    )
