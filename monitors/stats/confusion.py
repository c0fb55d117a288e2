"""The confusion matrix of predicted against true classes, and the metrics read off it.

Binary and multiclass alike: the classes are the sorted union of the values seen in either
array (numbers or strings, never mixed), rows are the true class and columns the predicted one,
as in ``sklearn.metrics.confusion_matrix``. Rows where either value is missing (NaN or None)
are left out and counted. One ``np.bincount`` over ``true * k + predicted``; no loop per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from monitors.stats.errors import StatsInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ConfusionResult:
    labels: tuple[float, ...] | tuple[str, ...]
    matrix: IntArray  # [true class, predicted class]
    n: int
    n_missing: int
    accuracy: float | None
    precision: FloatArray  # per class; NaN where the class was never predicted
    recall: FloatArray  # per class; NaN where the class never occurs
    f1: FloatArray
    macro_f1: float | None


def none_mask(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Where an object array of strings holds None (elementwise, not a loop in Python)."""
    mask: npt.NDArray[np.bool_] = np.asarray(values == None, dtype=np.bool_)  # noqa: E711
    return mask


def _missing(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """The engine's conventions: NaN in float arrays, None in object arrays of strings."""
    if values.dtype == object:
        return none_mask(values)
    if np.issubdtype(values.dtype, np.floating):
        nan: npt.NDArray[np.bool_] = np.isnan(values)
        return nan
    return np.zeros(values.shape, dtype=np.bool_)


def confusion_matrix(true: Any, predicted: Any) -> ConfusionResult:
    """Confusion matrix and accuracy, per-class precision/recall/F1 and macro F1."""
    t = np.asarray(true)
    p = np.asarray(predicted)
    if t.shape != p.shape or t.ndim != 1:
        raise StatsInputError("prediction", f"has {p.shape} values but the target has {t.shape}")
    missing = _missing(t) | _missing(p)
    t, p = t[~missing], p[~missing]
    numeric = t.dtype != object and p.dtype != object
    if numeric:
        both: npt.NDArray[Any] = np.concatenate([t.astype(np.float64), p.astype(np.float64)])
    else:
        both = np.concatenate([t.astype(str), p.astype(str)])
    classes, codes = np.unique(both, return_inverse=True)
    k = int(classes.size)
    n = int(t.size)
    pairs = codes[:n].astype(np.int64) * k + codes[n:].astype(np.int64)
    matrix = np.bincount(pairs, minlength=k * k).reshape(k, k).astype(np.int64)
    correct = np.diag(matrix).astype(np.float64)
    predicted_totals = matrix.sum(axis=0).astype(np.float64)
    true_totals = matrix.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_totals > 0, correct / predicted_totals, np.nan)
        recall = np.where(true_totals > 0, correct / true_totals, np.nan)
        denominator = precision + recall
        f1 = np.where(denominator > 0, 2 * precision * recall / denominator, 0.0)
        f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
    labels: tuple[float, ...] | tuple[str, ...] = tuple(float(c) if numeric else str(c) for c in classes)  # type: ignore[assignment]
    scored = f1[~np.isnan(f1)]
    return ConfusionResult(
        labels=labels,
        matrix=matrix,
        n=n,
        n_missing=int(missing.sum()),
        accuracy=float(correct.sum() / n) if n else None,
        precision=precision,
        recall=recall,
        f1=f1,
        macro_f1=float(scored.mean()) if scored.size else None,
    )
