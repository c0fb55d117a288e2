"""Stage 2, univariate data drift: one test per feature chosen by type and sample size, with
multiple-testing correction and an importance-weighted drift share (statistics part 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from monitors.checks.models import FeatureResult, MetricResult, StageStatus
from monitors.checks.stages.base import Earlier, StageOutcome

if TYPE_CHECKING:
    from monitors.checks.run_inputs import RunInputs
    from monitors.stats import FeatureDriftResult

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
            headline=headline,
        )
