"""Stage 1, data quality: schema, missing share, out-of-range values, unseen categories,
constant columns, and the row count against what the schema expects."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from monitors.checks.models import MetricResult, StageStatus
from monitors.checks.stages.base import Earlier, StageOutcome

if TYPE_CHECKING:
    from monitors.checks.run_inputs import RunInputs

STAGE = "data_quality"


class DataQualityStage:
    name: ClassVar[str] = STAGE

    def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
        result = inputs.univariate()
        metrics: list[MetricResult] = []
        flagged: dict[str, list[str]] = {}
        for quality in result.data_quality:
            if quality.issues:
                flagged[quality.column] = list(quality.issues)
            for metric, value, issue in (
                ("missing_share", quality.missing_share, "missing"),
                ("out_of_range_share", quality.out_of_range_share, "out_of_range"),
                ("unseen_share", quality.unseen_share, "unseen_categories"),
            ):
                if value is None:
                    continue
                metrics.append(
                    MetricResult(
                        stage=STAGE,
                        feature=quality.column,
                        metric=metric,
                        value=value,
                        flagged=any(i.startswith(issue) or issue in i for i in quality.issues),
                        detail={"n_rows": quality.n_rows},
                    )
                )
            metrics.append(
                MetricResult(
                    stage=STAGE,
                    feature=quality.column,
                    metric="constant_in_window",
                    value=float(quality.window_constant),
                    flagged="constant_in_window" in quality.issues,
                    detail={"reference_constant": quality.reference_constant},
                )
            )
        rows = result.row_count
        metrics.append(
            MetricResult(
                stage=STAGE,
                feature="",
                metric="row_count",
                value=float(rows.n_rows),
                threshold=float(rows.expected_rows) if rows.expected_rows is not None else None,
                flagged=None if rows.passed is None else not rows.passed,
                detail={
                    "expected_rows": rows.expected_rows,
                    "ratio": rows.ratio,
                    "min_ratio": rows.min_ratio,
                    "max_ratio": rows.max_ratio,
                    "note": rows.note,
                },
            )
        )
        findings = {
            "flagged_columns": sorted(flagged),
            "issues": flagged,
            "row_count": {"n_rows": rows.n_rows, "expected_rows": rows.expected_rows, "passed": rows.passed},
            "passed": not flagged and rows.passed is not False,
        }
        return StageOutcome(
            status=StageStatus.SUCCEEDED,
            findings=findings,
            metric_results=tuple(metrics),
            headline={"summary": {"n_rows": inputs.n_rows}},
        )
