"""Univariate drift check benchmark: Fleetwatch's engine against a per-column scipy loop.

Workload (issue 4, "Speed"): a 50,000-row reference and a 5,000-row window with 30 numeric and
10 categorical features. The *full univariate check* (``run_univariate_check`` with the default
config: KS on every numeric column, chi-square on every categorical column, PSI on all of them,
plus data quality and the drift share) runs against a precomputed reference profile; the scipy
loop runs ``ks_2samp`` (its default method), ``chi2_contingency`` and PSI on the profile's bins
column by column on the same raw data, in the same process. Both must agree within the
tolerances stated in docs/stats.md, or the script exits non-zero.

Usage: ``make bench-stats`` (``.venv/bin/python benchmarks/bench_stats.py``).
"""

from __future__ import annotations

import math
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from monitors.stats import (  # noqa: E402
    DriftConfig,
    FeatureSpec,
    ProfileSchema,
    ReferenceProfile,
    UnivariateCheckResult,
    build_reference_profile,
    run_univariate_check,
)
from monitors.stats.ks import FAST_P_ABS_TOL, FAST_P_REL_TOL  # noqa: E402

N_REFERENCE = 50_000
N_WINDOW = 5_000
N_NUMERIC = 30
N_CATEGORICAL = 10
SEED = 20_240_601
STAT_RTOL = 1e-12
P_RTOL = 1e-9
PSI_EPSILON = 1e-4


def make_columns(rng: np.random.Generator, n: int, *, shifted: bool) -> dict[str, np.ndarray[Any, Any]]:
    """Mixed shapes (normal, skewed, heavy-tailed, rounded with ties, some NaN); in the window
    a few columns move so that the results span drifted and stable features."""
    columns: dict[str, np.ndarray[Any, Any]] = {}
    for i in range(N_NUMERIC):
        shift = 0.1 * (i % 6 == 0) if shifted else 0.0
        shape = i % 4
        if shape == 0:
            values = rng.normal(shift, 1.0, n)
        elif shape == 1:
            values = rng.lognormal(shift, 0.5, n)
        elif shape == 2:
            values = rng.standard_t(5, n) + shift
        else:
            values = np.round(rng.normal(50.0 + 10 * shift, 10.0, n))  # integers: many ties
        if i % 5 == 1:
            values[rng.random(n) < 0.01] = np.nan
        columns[f"num_{i:02d}"] = values
    for j in range(N_CATEGORICAL):
        k = 5 + 3 * j
        weights = 1.0 / np.arange(1, k + 1)
        if shifted and j % 4 == 0:
            weights = weights[::-1].copy()
        labels = np.array([f"c{j}_{v:02d}" for v in range(k)], dtype=object)
        values = labels[rng.choice(k, size=n, p=weights / weights.sum())]
        if j % 3 == 1:
            values[rng.random(n) < 0.02] = None
        columns[f"cat_{j:02d}"] = values
    return columns


def schema() -> ProfileSchema:
    numeric = [FeatureSpec(f"num_{i:02d}", "numeric") for i in range(N_NUMERIC)]
    categorical = [FeatureSpec(f"cat_{j:02d}", "categorical") for j in range(N_CATEGORICAL)]
    return ProfileSchema(features=tuple(numeric + categorical))


def _psi(ref_counts: np.ndarray[Any, Any], win_counts: np.ndarray[Any, Any]) -> float:
    p = ref_counts / ref_counts.sum()
    q = win_counts / win_counts.sum()
    p = np.where(p > 0, p, PSI_EPSILON)
    q = np.where(q > 0, q, PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def scipy_loop(
    reference: Mapping[str, np.ndarray[Any, Any]],
    window: Mapping[str, np.ndarray[Any, Any]],
    edges: Mapping[str, np.ndarray[Any, Any]],
) -> dict[str, dict[str, float]]:
    """What a careful per-column loop over scipy.stats does with the raw columns."""
    out: dict[str, dict[str, float]] = {}
    for name, ref_values in reference.items():
        win_values = window[name]
        if name.startswith("num_"):
            r = ref_values[~np.isnan(ref_values)]
            w = win_values[~np.isnan(win_values)]
            ks = stats.ks_2samp(r, w)
            bins = edges[name]
            rc = np.bincount(np.searchsorted(bins, r, side="left"), minlength=bins.size + 1)
            wc = np.bincount(np.searchsorted(bins, w, side="left"), minlength=bins.size + 1)
            out[name] = {
                "ks": float(ks.statistic),
                "ks_p": float(ks.pvalue),
                "psi": _psi(rc, wc),
            }
        else:
            ref_counter = Counter(ref_values.tolist())
            win_counter = Counter(win_values.tolist())
            categories = sorted((set(ref_counter) | set(win_counter)) - {None})
            table = np.array(
                [[ref_counter.get(c, 0) for c in categories], [win_counter.get(c, 0) for c in categories]]
            )
            chi2 = stats.chi2_contingency(table)
            out[name] = {
                "chi2": float(chi2.statistic),
                "chi2_p": float(chi2.pvalue),
                "psi": _psi(table[0], table[1]),
            }
    return out


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm caches and lazy imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def interleaved_ms(
    check: Callable[[], object], loop: Callable[[], object], rounds: int = 9, checks: int = 5
) -> tuple[float, float]:
    """Medians of both, timed in alternation so that load from other processes on a shared
    machine falls on both alike."""
    check()
    loop()
    check_times: list[float] = []
    loop_times: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        loop()
        loop_times.append(time.perf_counter() - start)
        for _ in range(checks):
            start = time.perf_counter()
            check()
            check_times.append(time.perf_counter() - start)
    return statistics.median(check_times) * 1e3, statistics.median(loop_times) * 1e3


def _close(a: float, b: float, rtol: float, atol: float = 0.0) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def compare(result: UnivariateCheckResult, loop: Mapping[str, Mapping[str, float]]) -> list[str]:
    failures: list[str] = []
    for name, expected in loop.items():
        if name.startswith("num_"):
            ks = result.feature(name, "ks")
            assert ks.statistic is not None and ks.p_value is not None
            if not _close(ks.statistic, expected["ks"], STAT_RTOL):
                failures.append(f"{name}: KS {ks.statistic!r} vs scipy {expected['ks']!r}")
            p, p_scipy = ks.p_value, expected["ks_p"]
            rel_ok = p_scipy < 1e-3 or _close(p, p_scipy, FAST_P_REL_TOL)
            if abs(p - p_scipy) > FAST_P_ABS_TOL or not rel_ok:
                failures.append(f"{name}: KS p {p!r} ({ks.method}) vs scipy {p_scipy!r}")
        else:
            chi2 = result.feature(name, "chi2")
            assert chi2.statistic is not None and chi2.p_value is not None
            if not _close(chi2.statistic, expected["chi2"], STAT_RTOL):
                failures.append(f"{name}: chi2 {chi2.statistic!r} vs scipy {expected['chi2']!r}")
            if not _close(chi2.p_value, expected["chi2_p"], P_RTOL, 1e-300):
                failures.append(f"{name}: chi2 p {chi2.p_value!r} vs {expected['chi2_p']!r}")
        psi = result.feature(name, "psi")
        assert psi.statistic is not None
        if not _close(psi.statistic, expected["psi"], STAT_RTOL, 1e-15):
            failures.append(f"{name}: PSI {psi.statistic!r} vs loop {expected['psi']!r}")
    return failures


def main() -> int:
    rng = np.random.default_rng(SEED)
    reference = make_columns(rng, N_REFERENCE, shifted=False)
    window = make_columns(rng, N_WINDOW, shifted=True)
    spec = schema()
    config = DriftConfig()

    profile_holder: list[ReferenceProfile] = []

    def build() -> None:
        profile_holder[:] = [build_reference_profile(reference, spec)]

    build_ms = median_ms(build, 3)
    profile = profile_holder[0]
    profile_bytes = len(profile.to_bytes())
    edges = {
        f.name: np.asarray(f.components["value"].psi_edges)
        for f in profile.features
        if f.spec.kind == "numeric"
    }

    result = run_univariate_check(profile, window, config)
    loop = scipy_loop(reference, window, edges)
    failures = compare(result, loop)

    check_ms, loop_ms = interleaved_ms(
        lambda: run_univariate_check(profile, window, config),
        lambda: scipy_loop(reference, window, edges),
    )

    tracemalloc.start()
    run_univariate_check(profile, window, config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    speedup = loop_ms / check_ms
    print(
        f"workload: {N_REFERENCE:,}-row reference vs {N_WINDOW:,}-row window, "
        f"{N_NUMERIC} numeric + {N_CATEGORICAL} categorical features"
    )
    print(
        f"reference profile build: {build_ms:.1f} ms (once per reference; "
        f"{profile_bytes / 1e6:.1f} MB serialised)"
    )
    print(f"univariate check: {check_ms:.1f} ms, scipy loop: {loop_ms:.1f} ms, {speedup:.1f}x faster")
    print(
        f"peak memory: {peak / 1e6:.1f} MB allocated during one check (tracemalloc), "
        f"process max RSS {max_rss_mb:.0f} MB"
    )
    drifted = ", ".join(result.drift_share.drifted_features) or "none"
    print(f"drifted features: {drifted}; importance-weighted drift share {result.drift_share.share:.3f}")
    print(
        f"agreement with scipy: KS and chi-square statistics and PSI to {STAT_RTOL:g} relative, "
        f"chi-square p to {P_RTOL:g}, KS p (asymp_fast vs scipy's kstwo) within "
        f"{FAST_P_ABS_TOL:g} absolute / {FAST_P_REL_TOL:g} relative: "
        + ("ok" if not failures else f"{len(failures)} FAILURES")
    )
    for failure in failures:
        print(f"  {failure}")
    print(f"target >= 10x faster than the scipy loop: {'met' if speedup >= 10 else 'NOT met'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
