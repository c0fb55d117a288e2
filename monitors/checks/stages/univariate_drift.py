"""Stage 2, univariate data drift: one test per feature chosen by type and sample size, with
multiple-testing correction and an importance-weighted drift share (statistics part 1).

It raises ``drift.feature`` for each feature the drift share counts as drifted (any of its
primary tests drifted), ``drift.share`` when the share is over the plan's threshold, and
``drift.segment`` for each segment whose own drift share is."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from monitors.checks.models import FeatureResult, MetricResult, StageStatus
from monitors.checks.stages.base import Earlier, FindingDraft, StageOutcome, short

if TYPE_CHECKING:
    from monitors.checks.run_inputs import RunInputs
    from monitors.stats import FeatureDriftResult
    from monitors.stats.results import DriftShare, UnivariateCheckResult

STAGE = "univariate_drift"


def feature_row(
    result: FeatureDriftResult, *, segment: str = "", importance: float | None = None
) -> FeatureResult:
    name = result.feature if result.component == "value" else f"{result.feature}.{result.component}"
    return FeatureResult(
        stage=STAGE,
        feature=name,
        segment=segment,
        test=result.test,
        statistic=result.statistic,
        p_value=result.p_value,
        adjusted_p_value=result.adjusted_p_value,
        threshold=result.threshold,
        effect_size=result.effect_size,
        drifted=result.drifted,
        n_reference=result.n_reference,
        n_window=result.n_window,
        importance=importance,
        parameters={
            "role": result.role,
            "component": result.component,
            "alpha": result.alpha,
            "method": result.method,
            **dict(result.parameters),
        },
    )


def _test_numbers(result: FeatureDriftResult) -> dict[str, object]:
    return {
        "component": result.component,
        "test": result.test,
        "statistic": result.statistic,
        "p_value": result.p_value,
        "adjusted_p_value": result.adjusted_p_value,
        "threshold": result.threshold,
        "effect_size": result.effect_size,
        "n_reference": result.n_reference,
        "n_window": result.n_window,
    }


def _share_numbers(share: DriftShare) -> dict[str, object]:
    return {
        "share": share.share,
        "threshold": share.threshold,
        "n_features": share.n_features,
        "n_drifted": share.n_drifted,
        "n_skipped": share.n_skipped,
    }


def drift_drafts(result: UnivariateCheckResult) -> list[FindingDraft]:
    """The findings of one univariate check: drifted features, the share, drifted segments."""
    share = result.drift_share
    drifted: dict[str, list[FeatureDriftResult]] = {}
    for r in result.features:
        if r.role == "primary" and r.drifted:
            drifted.setdefault(r.feature, []).append(r)
    drafts = []
    for feature in share.drifted_features:
        tests = drifted[feature]
        first = tests[0]
        numbers = _test_numbers(first)
        if len(tests) > 1:
            numbers["drifted_components"] = [r.component for r in tests]
        drafts.append(
            FindingDraft(
                kind="drift.feature",
                subject=feature,
                numbers=numbers,
                note=f"`{feature}` drifted: {first.test} {short(first.statistic)} "
                f"(threshold {first.threshold:g})",
            )
        )
    if share.drifted:
        drafts.append(
            FindingDraft(
                kind="drift.share",
                subject="drift_share",
                numbers=_share_numbers(share),
                note=f"drift share {short(share.share)} over the threshold {share.threshold:g}",
            )
        )
    for segment in result.segments:
        if segment.drift_share is not None and segment.drift_share.drifted:
            label = f"{segment.column}={segment.value}"
            drafts.append(
                FindingDraft(
                    kind="drift.segment",
                    subject=label,
                    numbers=_share_numbers(segment.drift_share),
                    note=f"segment {label}: drift share {short(segment.drift_share.share)} "
                    f"over the threshold {segment.drift_share.threshold:g}",
                )
            )
    return drafts


class UnivariateDriftStage:
    name: ClassVar[str] = STAGE

    def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
        minimum = inputs.min_sample_size
        if inputs.n_rows < minimum:
            return StageOutcome.skipped(
                f"the window has {inputs.n_rows} rows; the plan needs at least {minimum} "
                "(min_sample_size) before a drift test means anything",
                n_rows=inputs.n_rows,
                min_sample_size=minimum,
            )
        result = inputs.univariate()
        importance = {f.name: f.importance for f in inputs.schema.features}
        rows = [feature_row(r, importance=importance.get(r.feature)) for r in result.features]
        segments_drifted = []
        for segment in result.segments:
            label = f"{segment.column}={segment.value}"
            rows += [
                feature_row(r, segment=label, importance=importance.get(r.feature)) for r in segment.features
            ]
            if segment.drift_share is not None and segment.drift_share.drifted:
                segments_drifted.append(label)
        share = result.drift_share
        metrics = [
            MetricResult(
                stage=STAGE,
                feature="",
                metric="drift_share",
                value=share.share,
                threshold=share.threshold,
                flagged=share.drifted,
                detail={
                    "n_features": share.n_features,
                    "n_drifted": share.n_drifted,
                    "n_skipped": share.n_skipped,
                    "weight_total": share.weight_total,
                    "note": share.note,
                },
            )
        ]
        findings = {
            "drift_share": share.share,
            "threshold": share.threshold,
            "drift_detected": share.drifted,
            "drifted_features": list(share.drifted_features),
            "segments_drifted": segments_drifted,
            "n_features": share.n_features,
            "n_skipped": share.n_skipped,
        }
        headline = {
            "drift_share": share.share,
            "drift_detected": share.drifted,
            "summary": {
                "drifted_features": list(share.drifted_features),
                "n_features": share.n_features,
                "n_skipped": share.n_skipped,
            },
        }
        return StageOutcome(
            status=StageStatus.SUCCEEDED,
            findings=findings,
            feature_results=tuple(rows),
            metric_results=tuple(metrics),
            raised=tuple(drift_drafts(result)),
            headline=headline,
        )
