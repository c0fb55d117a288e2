"""The univariate check: data quality and per-feature drift of a window against a profile.

Work is organised by column type rather than by feature, so that the expensive steps run once
for all columns: the window's continuous components are stacked and sorted in one call, KS
statistics come from a bracketed binary search of each sorted window column into the stored
sorted reference (see ``ks.ks_statistics``), and KS p-values for all columns come from one
vectorised call. Nothing is converted row by row except text (tokenising needs Python) and
values that fail the fast type checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from monitors.stats import ks as ks_mod
from monitors.stats.categorical import chi2_homogeneity, fisher_exact_test, two_proportion_z_test
from monitors.stats.config import (
    SIGNIFICANCE_TESTS,
    ComponentType,
    DriftConfig,
    auto_test,
    supports,
)
from monitors.stats.correction import adjust_p_values
from monitors.stats.distances import (
    energy_distance_test,
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    psi,
    wasserstein_normalised,
)
from monitors.stats.errors import StatsConfigError, StatsInputError
from monitors.stats.profile import (
    Component,
    ContinuousProfile,
    DiscreteProfile,
    FeatureProfile,
    ReferenceProfile,
    SegmentProfile,
)
from monitors.stats.quality import column_quality, row_count
from monitors.stats.rank_tests import anderson_ksamp_test, cramervonmises_test
from monitors.stats.results import (
    DriftShare,
    FeatureDriftResult,
    Role,
    SegmentResult,
    TestResult,
    UnivariateCheckResult,
)
from monitors.stats.window import DiscreteWindow, FeatureWindow, component_type, prepare_feature

#: Bump when any number a check produces could change.
STATS_CODE_VERSION = "1.0.0"


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SampleRunner = Callable[[FloatArray, FloatArray, DriftConfig], TestResult]
CountRunner = Callable[[IntArray, IntArray, DriftConfig], TestResult]

#: Tests on the samples themselves: the stored sorted reference and the sorted window.
SAMPLE_TESTS: Mapping[str, SampleRunner] = MappingProxyType(
    {
        "wasserstein": lambda ref, win, _c: wasserstein_normalised(ref, win, window_sorted=True),
        "energy": lambda ref, win, _c: energy_distance_test(ref, win, window_sorted=True),
        "cvm": lambda ref, win, _c: cramervonmises_test(ref, win),
        "anderson": lambda ref, win, _c: anderson_ksamp_test(ref, win),
    }
)
#: Tests on counts: categories, or a continuous component binned on the profile's PSI edges.
COUNT_TESTS: Mapping[str, CountRunner] = MappingProxyType(
    {
        "chi2": lambda ref, win, _c: chi2_homogeneity(ref, win),
        "fisher": lambda ref, win, _c: fisher_exact_test(ref, win),
        "ztest": lambda ref, win, _c: two_proportion_z_test(ref, win),
        "psi": lambda ref, win, c: psi(ref, win, epsilon=c.psi_epsilon),
        "jensenshannon": lambda ref, win, c: jensenshannon_distance(ref, win, base=c.js_base),
        "hellinger": lambda ref, win, _c: hellinger_distance(ref, win),
        "kl": lambda ref, win, c: kl_divergence(ref, win, epsilon=c.psi_epsilon),
    }
)
#: Tests run for all columns at once (``_ks_batch``), not one component at a time.
BATCHED_TESTS = frozenset({"ks"})
#: Every test the engine implements; a test holds it equal to the vocabulary's table.
IMPLEMENTED_TESTS = frozenset(SAMPLE_TESTS) | frozenset(COUNT_TESTS) | BATCHED_TESTS


def run_univariate_check(
    profile: ReferenceProfile,
    window_columns: Mapping[str, Any],
    config: DriftConfig | None = None,
    *,
    expected_rows: int | None = None,
) -> UnivariateCheckResult:
    """Check a window (one array per schema feature) against a reference profile."""
    config = DriftConfig() if config is None else config
    validate_config(profile, config)
    n_window = _window_length(profile, window_columns)
    windows = {f.name: prepare_feature(f, window_columns[f.name]) for f in profile.features}
    quality = tuple(column_quality(f, windows[f.name], config) for f in profile.features)
    features, share = drift_results(profile.features, windows, config)
    segments = tuple(_segment(s, profile.feature(s.column), windows, config) for s in profile.segments)
    return UnivariateCheckResult(
        stats_code_version=STATS_CODE_VERSION,
        profile_code_version=profile.code_version,
        config=config.as_dict(),
        n_reference_rows=profile.n_rows,
        n_window_rows=n_window,
        features=features,
        data_quality=quality,
        row_count=row_count(n_window, expected_rows, config),
        drift_share=share,
        segments=segments,
    )


def validate_config(profile: ReferenceProfile, config: DriftConfig) -> None:
    """Refuse overrides that name unknown features or tests no component of theirs supports."""
    known = {f.name: f for f in profile.features}
    for name, override in config.overrides.items():
        if name not in known:
            raise StatsConfigError(f"override for feature `{name}`, which the profile lacks")
        if override.test is not None:
            _check_pinned(known[name], override.test, "the override")
    for feature in profile.features:
        if feature.spec.test is not None:
            _check_pinned(feature, feature.spec.test, "the schema")


def _check_pinned(feature: FeatureProfile, test: str, where: str) -> None:
    kinds = [component_type(feature.spec.kind, c) for c in feature.components]
    if not any(supports(k, test) for k in kinds):
        raise StatsConfigError(
            f"feature `{feature.name}`: {where} asks for test {test!r}, which does not apply to "
            f"a {feature.spec.kind} feature"
        )


def _window_length(profile: ReferenceProfile, window_columns: Mapping[str, Any]) -> int:
    n_rows: int | None = None
    first = ""
    for feature in profile.features:
        if feature.name not in window_columns:
            raise StatsInputError(feature.name, "is missing from the window; the profile's schema lists it")
        length = len(window_columns[feature.name])
        if n_rows is None:
            n_rows, first = length, feature.name
        elif length != n_rows:
            raise StatsInputError(feature.name, f"has {length} rows but column `{first}` has {n_rows}")
    return n_rows or 0


@dataclass
class _Plan:
    """One component of one feature, what its window looks like, and the tests to run on it."""

    feature: FeatureProfile
    component: str
    ctype: ComponentType
    reference: Component
    window: FloatArray | DiscreteWindow
    n_reference: int = 0
    n_window: int = 0
    sorted_window: FloatArray = field(default_factory=lambda: np.empty(0))
    ref_counts: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    win_counts: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    tests: list[tuple[str, Role]] = field(default_factory=list)


def drift_results(
    features: Sequence[FeatureProfile], windows: Mapping[str, FeatureWindow], config: DriftConfig
) -> tuple[tuple[FeatureDriftResult, ...], DriftShare]:
    plans = _plans(features, windows, config)
    outcomes = _run_tests(plans, config)
    results = _decide(outcomes, config)
    return results, _drift_share(features, results, config)


def _plans(
    features: Sequence[FeatureProfile], windows: Mapping[str, FeatureWindow], config: DriftConfig
) -> list[_Plan]:
    plans: list[_Plan] = []
    for feature in features:
        override = config.overrides.get(feature.name)
        if override is not None and override.skip:
            continue
        window = windows[feature.name]
        for name, reference in feature.components.items():
            plans.append(
                _Plan(
                    feature=feature,
                    component=name,
                    ctype=component_type(feature.spec.kind, name),
                    reference=reference,
                    window=window.components[name],
                )
            )
    _sort_continuous(plans)
    for plan in plans:
        if isinstance(plan.reference, DiscreteProfile):
            assert isinstance(plan.window, DiscreteWindow)
            _count_discrete(plan, plan.reference, plan.window)
        else:
            plan.n_reference = plan.reference.n
            plan.n_window = int(plan.sorted_window.size)
        plan.tests = _choose_tests(plan, config)
    return plans


def _sort_continuous(plans: list[_Plan]) -> None:
    continuous = [p for p in plans if isinstance(p.reference, ContinuousProfile)]
    if not continuous:
        return
    matrix = np.stack([np.asarray(p.window, dtype=np.float64) for p in continuous])
    present = matrix.shape[1] - np.count_nonzero(np.isnan(matrix), axis=1)
    matrix.sort(axis=1)  # NaN sorts last
    for plan, row, m in zip(continuous, matrix, present, strict=True):
        plan.sorted_window = row[: int(m)]


def _count_discrete(plan: _Plan, reference: DiscreteProfile, window: DiscreteWindow) -> None:
    ref = reference.extended_counts
    win = window.counts(reference.width)
    if plan.ctype == "binary":
        ref, win = ref[:2], win[:2]
    else:
        # categories absent on both sides carry no information
        keep = (ref + win) > 0
        ref, win = ref[keep], win[keep]
    plan.ref_counts, plan.win_counts = ref, win
    plan.n_reference, plan.n_window = int(ref.sum()), int(win.sum())


def _choose_tests(plan: _Plan, config: DriftConfig) -> list[tuple[str, Role]]:
    override = config.overrides.get(plan.feature.name)
    pinned = [t for t in (override.test if override else None, plan.feature.spec.test) if t is not None]
    primary = next((t for t in pinned if supports(plan.ctype, t)), None)
    if primary is None:
        primary = auto_test(
            plan.ctype,
            plan.n_reference,
            plan.n_window,
            config,
            min_expected=_min_expected(plan) if plan.ctype == "binary" else None,
        )
    tests: list[tuple[str, Role]] = [(primary, "primary")]
    tests += [(t, "extra") for t in config.extra_tests if t != primary and supports(plan.ctype, t)]
    return tests


def _min_expected(plan: _Plan) -> float:
    total = plan.n_reference + plan.n_window
    if total == 0:
        return 0.0
    columns = plan.ref_counts + plan.win_counts
    return float(min(plan.n_reference, plan.n_window) * columns.min() / total)


@dataclass
class _Outcome:
    plan: _Plan
    test: str
    role: Role
    result: TestResult


def _run_tests(plans: list[_Plan], config: DriftConfig) -> list[_Outcome]:
    outcomes: list[_Outcome] = []
    ks_plans = [p for p in plans if any(t == "ks" for t, _ in p.tests) and p.n_reference and p.n_window]
    ks_results = _ks_batch(ks_plans)
    for plan in plans:
        for test, role in plan.tests:
            if not (plan.n_reference and plan.n_window):
                result = _empty(plan, test)
            elif test == "ks":
                result = ks_results[id(plan)]
            else:
                result = _run_one(plan, test, config)
            outcomes.append(_Outcome(plan, test, role, result))
    return outcomes


def _ks_batch(plans: list[_Plan]) -> dict[int, TestResult]:
    if not plans:
        return {}
    references = [p.reference for p in plans if isinstance(p.reference, ContinuousProfile)]
    refs = [r.sorted_values for r in references]
    d = ks_mod.ks_statistics(refs, [p.sorted_window for p in plans], [r.coarse_index for r in references])
    n = np.array([p.n_reference for p in plans])
    m = np.array([p.n_window for p in plans])
    methods = [ks_mod.choose_method(int(a), int(b)) for a, b in zip(n, m, strict=True)]
    fast = np.array([method == "asymp_fast" for method in methods])
    p_values = np.full(len(plans), np.nan)
    if fast.any():
        p_values[fast] = ks_mod.fast_p_values(d[fast], n[fast], m[fast])
    out: dict[int, TestResult] = {}
    for i, plan in enumerate(plans):
        method: str = methods[i]
        if method == "exact":
            p, method = ks_mod.exact_p_value(refs[i], plan.sorted_window)
            if method == "asymp":
                p = ks_mod.asymp_p_value(float(d[i]), plan.n_reference, plan.n_window)
        elif method == "asymp":
            p = ks_mod.asymp_p_value(float(d[i]), plan.n_reference, plan.n_window)
        else:
            p = float(p_values[i])
        out[id(plan)] = TestResult(
            test="ks",
            statistic=float(d[i]),
            p_value=p,
            method=method,
            n_reference=plan.n_reference,
            n_window=plan.n_window,
            effect_size=float(d[i]),
            parameters={
                "effective_n": round(ks_mod.effective_size(plan.n_reference, plan.n_window)),
                "alternative": "two-sided",
            },
        )
    return out


def _empty(plan: _Plan, test: str) -> TestResult:
    side = "reference" if plan.n_reference == 0 else "window"
    return TestResult(
        test=test,
        statistic=None,
        p_value=None,
        method="none",
        n_reference=plan.n_reference,
        n_window=plan.n_window,
        note=f"the {side} has no non-missing values",
    )


def _run_one(plan: _Plan, test: str, config: DriftConfig) -> TestResult:
    reference = plan.reference
    if isinstance(reference, ContinuousProfile) and test in SAMPLE_TESTS:
        return SAMPLE_TESTS[test](reference.sorted_values, plan.sorted_window, config)
    if test not in COUNT_TESTS:
        raise StatsConfigError(f"test {test!r} does not apply to {plan.ctype} data")
    if isinstance(reference, ContinuousProfile):
        ref_counts: IntArray = reference.psi_counts
        win_counts: IntArray = _bin_counts(plan.sorted_window, reference.psi_edges)
    else:
        ref_counts, win_counts = plan.ref_counts, plan.win_counts
    return COUNT_TESTS[test](ref_counts, win_counts, config)


def _bin_counts(sorted_window: FloatArray, edges: FloatArray) -> IntArray:
    cuts = np.searchsorted(sorted_window, edges, side="right")
    out: IntArray = np.diff(np.concatenate([[0], cuts, [sorted_window.size]])).astype(np.int64)
    return out


def _decide(outcomes: list[_Outcome], config: DriftConfig) -> tuple[FeatureDriftResult, ...]:
    adjusted: dict[int, float] = {}
    families: dict[str, list[int]] = {}
    for i, outcome in enumerate(outcomes):
        if outcome.result.p_value is None:
            continue
        family = "primary" if outcome.role == "primary" else f"extra:{outcome.test}"
        families.setdefault(family, []).append(i)
    for members in families.values():
        raw = np.array([outcomes[i].result.p_value for i in members], dtype=np.float64)
        for i, value in zip(members, adjust_p_values(raw, config.correction), strict=True):
            adjusted[i] = float(value)

    results = []
    for i, outcome in enumerate(outcomes):
        plan, test, result = outcome.plan, outcome.test, outcome.result
        name = plan.feature.name
        threshold = config.threshold_for(name, test)
        significance = test in SIGNIFICANCE_TESTS
        alpha = config.alpha_for(name) if significance else None
        adjusted_p = adjusted.get(i)
        effect = result.effect_size
        if significance:
            drifted = (
                adjusted_p is not None
                and alpha is not None
                and adjusted_p < alpha
                and effect is not None
                and effect >= threshold
            )
        else:
            drifted = (effect is not None and effect >= threshold) or bool(
                result.parameters.get("treated_as_infinite", False)
            )
        parameters = dict(result.parameters)
        if significance:
            parameters["correction"] = config.correction
        results.append(
            FeatureDriftResult(
                feature=name,
                component=plan.component,
                test=test,
                role=outcome.role,
                statistic=result.statistic,
                p_value=result.p_value,
                adjusted_p_value=adjusted_p,
                alpha=alpha,
                threshold=threshold,
                effect_size=effect,
                drifted=drifted,
                n_reference=result.n_reference,
                n_window=result.n_window,
                method=result.method,
                importance=plan.feature.spec.importance,
                is_key=plan.feature.spec.is_key,
                parameters=parameters,
                note=result.note,
            )
        )
    return tuple(results)


def _drift_share(
    features: Sequence[FeatureProfile],
    results: tuple[FeatureDriftResult, ...],
    config: DriftConfig,
) -> DriftShare:
    weight_total = 0.0
    weight_drifted = 0.0
    n_features = n_skipped = 0
    drifted_names: list[str] = []
    by_feature: dict[str, list[FeatureDriftResult]] = {}
    for r in results:
        if r.role == "primary":
            by_feature.setdefault(r.feature, []).append(r)
    for feature in features:
        primary = by_feature.get(feature.name)
        if not primary:
            continue  # skipped by configuration
        tested = [r for r in primary if not r.skipped]
        if not tested:
            n_skipped += 1
            continue
        n_features += 1
        weight = feature.spec.importance
        weight_total += weight
        if any(r.drifted for r in tested):
            weight_drifted += weight
            drifted_names.append(feature.name)
    if weight_total == 0.0:
        return DriftShare(
            share=None,
            threshold=config.drift_share_threshold,
            drifted=False,
            n_features=n_features,
            n_drifted=len(drifted_names),
            n_skipped=n_skipped,
            weight_total=0.0,
            drifted_features=tuple(drifted_names),
            note="no feature with a positive importance could be tested",
        )
    share = weight_drifted / weight_total
    return DriftShare(
        share=share,
        threshold=config.drift_share_threshold,
        drifted=share >= config.drift_share_threshold,
        n_features=n_features,
        n_drifted=len(drifted_names),
        n_skipped=n_skipped,
        weight_total=weight_total,
        drifted_features=tuple(drifted_names),
    )


def _segment(
    segment: SegmentProfile,
    column_profile: FeatureProfile,
    windows: Mapping[str, FeatureWindow],
    config: DriftConfig,
) -> SegmentResult:
    column = windows[segment.column].components["value"]
    labels = column_profile.components["value"]
    assert isinstance(column, DiscreteWindow) and isinstance(labels, DiscreteProfile)
    mask = column.codes == labels.lookup[segment.value]
    n_window = int(np.count_nonzero(mask))
    n_reference = segment.profile.n_rows
    smallest = min(n_reference, n_window)
    if smallest < config.segment_min_size:
        side = "reference" if n_reference <= n_window else "window"
        return SegmentResult(
            column=segment.column,
            value=segment.value,
            n_reference=n_reference,
            n_window=n_window,
            features=(),
            drift_share=None,
            note=f"the {side} has {smallest} rows in this segment, fewer than the minimum "
            f"{config.segment_min_size}",
        )
    sub_windows = {f.name: windows[f.name].subset(mask) for f in segment.profile.features}
    results, share = drift_results(segment.profile.features, sub_windows, config)
    return SegmentResult(
        column=segment.column,
        value=segment.value,
        n_reference=n_reference,
        n_window=n_window,
        features=results,
        drift_share=share,
    )
