"""Multiple-testing correction of a family of p-values."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

Correction = Literal["bonferroni", "holm", "bh", "none"]
CORRECTIONS: tuple[str, ...] = get_args(Correction)


def adjust_p_values(p_values: npt.ArrayLike, method: Correction) -> npt.NDArray[np.float64]:
    """Adjusted p-values; reject where adjusted < alpha.

    ``bonferroni`` and ``holm`` control the family-wise error rate (Holm is never less powerful
    than Bonferroni); ``bh`` (Benjamini-Hochberg) controls the false discovery rate and equals
    ``scipy.stats.false_discovery_control(p, method="bh")``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p-values must be a 1-D array")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    k = p.size
    if k == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        out: npt.NDArray[np.float64] = np.minimum(p * k, 1.0)
        return out
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        stepped = np.maximum.accumulate(ranked * (k - np.arange(k)))
    elif method == "bh":
        stepped = np.minimum.accumulate((ranked * k / np.arange(1, k + 1))[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}; choose one of {CORRECTIONS}")
    adjusted = np.empty(k)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted
