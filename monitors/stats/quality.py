"""Data quality of a window: missing share, out-of-range share, unseen categories, constant
columns, and the row count against what was expected."""

from __future__ import annotations

import numpy as np

from monitors.stats import columns as col
from monitors.stats.config import DriftConfig
from monitors.stats.profile import DiscreteProfile, FeatureProfile
from monitors.stats.results import DataQualityResult, RowCountResult
from monitors.stats.window import DiscreteWindow, FeatureWindow


def column_quality(profile: FeatureProfile, window: FeatureWindow, config: DriftConfig) -> DataQualityResult:
    spec = profile.spec
    n_rows = window.n_rows
    data = next(iter(window.components.values()))
    reference = profile.primary
    notes: list[str] = []

    if isinstance(data, DiscreteWindow):
        n_missing = int(np.count_nonzero(data.codes == col.MISSING))
        present = data.codes[data.codes >= 0]
        distinct = int(np.count_nonzero(np.bincount(present))) if present.size else 0
        if window.n_distinct_unseen:
            # every unseen value shares one code; count them as the distinct values they are
            distinct += window.n_distinct_unseen - 1
        window_constant = present.size >= 2 and distinct == 1
    else:
        n_missing = int(np.count_nonzero(np.isnan(data)))
        # fmin/fmax skip NaN without copying the present values out
        window_constant = bool(data.size - n_missing >= 2 and np.fmin.reduce(data) == np.fmax.reduce(data))
    n_present = n_rows - n_missing

    missing_share = n_missing / n_rows if n_rows else None
    reference_missing_share = profile.n_missing / profile.n_rows if profile.n_rows else None

    n_out_of_range = _out_of_range(profile, window)
    out_of_range_share = n_out_of_range / n_present if n_out_of_range is not None and n_present else None

    n_unseen = window.n_unseen
    unseen_share = n_unseen / n_present if n_unseen is not None and n_present else None
    if spec.kind == "categorical" and n_unseen is None:
        notes.append(
            "the reference had more categories than the profile keeps; unseen categories "
            "cannot be told from rare ones"
        )

    reference_constant = reference.constant
    if reference_constant:
        notes.append("the reference is constant: drift tests on this column are degenerate")
    if n_rows == 0:
        notes.append("the window is empty")

    issues: list[str] = []
    if n_rows and n_missing == n_rows:
        issues.append("all_missing")
    if not spec.nullable and n_missing:
        issues.append("missing_in_non_nullable")
    if (
        missing_share is not None
        and reference_missing_share is not None
        and missing_share > reference_missing_share + config.missing_share_tolerance
    ):
        issues.append("missing_share_increase")
    if out_of_range_share is not None and out_of_range_share > config.out_of_range_tolerance:
        issues.append("out_of_range")
    if unseen_share is not None and unseen_share > config.unseen_tolerance:
        issues.append("unseen_categories")
    if window_constant and not reference_constant:
        issues.append("constant_in_window")

    return DataQualityResult(
        column=spec.name,
        feature_kind=spec.kind,
        n_rows=n_rows,
        n_missing=n_missing,
        missing_share=missing_share,
        reference_missing_share=reference_missing_share,
        n_out_of_range=n_out_of_range,
        out_of_range_share=out_of_range_share,
        n_unseen=n_unseen,
        unseen_share=unseen_share,
        n_distinct_unseen=window.n_distinct_unseen,
        window_constant=window_constant,
        reference_constant=reference_constant,
        issues=tuple(issues),
        passed=not issues,
        notes=tuple(notes),
    )


def _out_of_range(profile: FeatureProfile, window: FeatureWindow) -> int | None:
    spec = profile.spec
    if spec.kind in ("numeric", "datetime"):
        if spec.min_value is None and spec.max_value is None:
            return None
        values = window.components["value"]
        assert not isinstance(values, DiscreteWindow)
        bad = np.zeros(values.size, dtype=bool)
        if spec.min_value is not None:
            bad |= values < spec.min_value
        if spec.max_value is not None:
            bad |= values > spec.max_value
        return int(np.count_nonzero(bad))
    if spec.kind == "categorical" and spec.categories is not None:
        component = profile.components["value"]
        data = window.components["value"]
        assert isinstance(component, DiscreteProfile) and isinstance(data, DiscreteWindow)
        allowed = np.zeros(component.width, dtype=bool)
        declared = set(spec.categories)
        allowed[: len(component.labels)] = [label in declared for label in component.labels]
        present = data.codes[data.codes >= 0]
        return int(np.count_nonzero(~allowed[present]))
    return None


def row_count(n_rows: int, expected_rows: int | None, config: DriftConfig) -> RowCountResult:
    lo, hi = config.row_count_min_ratio, config.row_count_max_ratio
    if expected_rows is None:
        return RowCountResult(
            n_rows=n_rows,
            expected_rows=None,
            ratio=None,
            min_ratio=lo,
            max_ratio=hi,
            passed=None,
            note="no expected row count was given",
        )
    if expected_rows < 0:
        raise ValueError(f"expected_rows must be >= 0, got {expected_rows}")
    if expected_rows == 0:
        return RowCountResult(
            n_rows=n_rows,
            expected_rows=0,
            ratio=None,
            min_ratio=lo,
            max_ratio=hi,
            passed=n_rows == 0,
            note="no rows were expected",
        )
    ratio = n_rows / expected_rows
    return RowCountResult(
        n_rows=n_rows,
        expected_rows=expected_rows,
        ratio=ratio,
        min_ratio=lo,
        max_ratio=hi,
        passed=lo <= ratio <= hi,
    )
