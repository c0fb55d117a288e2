"""The performance metrics a model may be measured by: one row per metric, read by the registry
(what a retraining policy may name, which tolerances are comparable across models) and by the
performance checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

Direction = Literal["higher_is_better", "lower_is_better"]

TASK_TYPES: Final = ("binary", "multiclass", "regression", "ranking")


@dataclass(frozen=True)
class Metric:
    """One metric. ``unit_scale`` is true for metrics on a 0-1 scale, whose absolute tolerances
    mean the same thing for every model; ``parameters`` are fixed settings (NDCG's cut-off)."""

    name: str
    task_types: tuple[str, ...]
    direction: Direction
    unit_scale: bool
    title: str
    parameters: MappingProxyType[str, int | float | str] = field(default_factory=lambda: MappingProxyType({}))


_HIGHER: Final = "higher_is_better"
_LOWER: Final = "lower_is_better"

_METRICS = (
    Metric("auc", ("binary", "ranking"), _HIGHER, True, "area under the ROC curve"),
    Metric("gini", ("binary",), _HIGHER, True, "Gini coefficient (2 x AUC - 1)"),
    Metric("ks", ("binary",), _HIGHER, True, "Kolmogorov-Smirnov separation of the score by class"),
    Metric("log_loss", ("binary", "multiclass", "ranking"), _LOWER, False, "logarithmic loss"),
    Metric("brier", ("binary",), _LOWER, True, "Brier score"),
    Metric("accuracy", ("binary", "multiclass"), _HIGHER, True, "share of correct predictions"),
    Metric("f1", ("binary",), _HIGHER, True, "F1 score of the positive class"),
    Metric("precision", ("binary",), _HIGHER, True, "precision of the positive class"),
    Metric("recall", ("binary",), _HIGHER, True, "recall of the positive class"),
    Metric("macro_f1", ("multiclass",), _HIGHER, True, "unweighted mean of per-class F1"),
    Metric("weighted_f1", ("multiclass",), _HIGHER, True, "support-weighted mean of per-class F1"),
    Metric("rmse", ("regression",), _LOWER, False, "root mean squared error, in the target's units"),
    Metric("mae", ("regression",), _LOWER, False, "mean absolute error, in the target's units"),
    Metric("mape", ("regression",), _LOWER, False, "mean absolute percentage error"),
    Metric("r2", ("regression",), _HIGHER, False, "coefficient of determination"),
    Metric(
        "ndcg",
        ("ranking",),
        _HIGHER,
        True,
        "normalised discounted cumulative gain at k",
        MappingProxyType({"k": 10}),
    ),
    Metric("map", ("ranking",), _HIGHER, True, "mean average precision"),
    Metric("mrr", ("ranking",), _HIGHER, True, "mean reciprocal rank"),
)

#: every metric by name, in the order above
METRICS: Final = MappingProxyType({m.name: m for m in _METRICS})
#: the metrics each task type may be measured by, in table order
TASK_METRICS: Final = MappingProxyType(
    {task: tuple(m.name for m in _METRICS if task in m.task_types) for task in TASK_TYPES}
)
UNIT_SCALE_METRICS: Final = frozenset(m.name for m in _METRICS if m.unit_scale)
#: the metric a task type is measured by when its tier's default metric does not fit it
STANDARD_METRIC: Final = MappingProxyType(
    {"binary": "auc", "multiclass": "macro_f1", "regression": "rmse", "ranking": "auc"}
)
