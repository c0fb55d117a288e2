"""Stage 1, data quality: schema, missing share, out-of-range values, unseen categories,
constant columns, and the row count against what the schema expects.

Each issue the statistics engine flags on a column (``DataQualityResult.issues``) is raised as a
finding of the kind ``ISSUE_KINDS`` names, and a row count outside the expected range as
``data_quality.row_count``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from monitors.checks.models import MetricResult, StageStatus
from monitors.checks.stages.base import Earlier, FindingDraft, StageOutcome, short

if TYPE_CHECKING:
    from monitors.checks.run_inputs import RunInputs
    from monitors.stats.config import DriftConfig
    from monitors.stats.results import DataQualityResult, RowCountResult

STAGE = "data_quality"

#: the engine's issue names (``monitors/stats/quality.py``) -> the finding kind each raises
ISSUE_KINDS = {
    "all_missing": "data_quality.all_missing",
    "missing_in_non_nullable": "data_quality.missing_in_non_nullable",
    "missing_share_increase": "data_quality.missing_share",
    "out_of_range": "data_quality.out_of_range",
    "unseen_categories": "data_quality.unseen_categories",
    "constant_in_window": "data_quality.constant_column",
}


def column_drafts(quality: DataQualityResult, config: DriftConfig) -> list[FindingDraft]:
    """One finding per issue flagged on a column, with the numbers that flagged it."""
    column = quality.column
    drafts = []
    for issue in quality.issues:
        if issue in ("all_missing", "missing_in_non_nullable", "missing_share_increase"):
            numbers = {
                "missing_share": quality.missing_share,
                "reference_missing_share": quality.reference_missing_share,
                "n_missing": quality.n_missing,
                "n_rows": quality.n_rows,
            }
            if issue == "missing_share_increase":
                numbers["tolerance"] = config.missing_share_tolerance
            note = (
                f"`{column}`: missing share {short(quality.missing_share)} "
                f"(reference {short(quality.reference_missing_share)})"
            )
        elif issue == "out_of_range":
            numbers = {
                "out_of_range_share": quality.out_of_range_share,
                "n_out_of_range": quality.n_out_of_range,
                "tolerance": config.out_of_range_tolerance,
                "n_rows": quality.n_rows,
            }
            note = (
                f"`{column}`: {short(quality.out_of_range_share)} of values out of range "
                f"(tolerance {config.out_of_range_tolerance:g})"
            )
        elif issue == "unseen_categories":
            numbers = {
                "unseen_share": quality.unseen_share,
                "n_unseen": quality.n_unseen,
                "n_distinct_unseen": quality.n_distinct_unseen,
                "tolerance": config.unseen_tolerance,
                "n_rows": quality.n_rows,
            }
            note = (
                f"`{column}`: {short(quality.unseen_share)} of values are categories the reference "
                f"never saw (tolerance {config.unseen_tolerance:g})"
            )
        else:
            numbers = {"n_rows": quality.n_rows, "reference_constant": quality.reference_constant}
            note = f"`{column}`: {issue.replace('_', ' ')}"
        drafts.append(FindingDraft(kind=ISSUE_KINDS[issue], subject=column, numbers=numbers, note=note))
    return drafts


def row_count_drafts(rows: RowCountResult) -> list[FindingDraft]:
    if rows.passed is not False:
        return []
    return [
        FindingDraft(
            kind="data_quality.row_count",
            subject="row_count",
            numbers={
                "n_rows": rows.n_rows,
                "expected_rows": rows.expected_rows,
                "ratio": rows.ratio,
                "min_ratio": rows.min_ratio,
                "max_ratio": rows.max_ratio,
            },
            note=f"{rows.n_rows} rows where {rows.expected_rows} were expected",
        )
    ]


class DataQualityStage:
    name: ClassVar[str] = STAGE

    def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
        result = inputs.univariate()
        metrics: list[MetricResult] = []
        flagged: dict[str, list[str]] = {}
        raised: list[FindingDraft] = []
        for quality in result.data_quality:
            if quality.issues:
                flagged[quality.column] = list(quality.issues)
                raised += column_drafts(quality, inputs.drift_config)
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
        raised += row_count_drafts(rows)
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
            raised=tuple(raised),
            headline={"summary": {"n_rows": inputs.n_rows}},
        )
