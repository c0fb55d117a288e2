"""PSI bins: fixed once from the reference and stored in its profile, never re-binned.

Bins are right-closed: ``(-inf, e1], (e1, e2], ..., (ek, +inf)``; a value's bin is
``searchsorted(edges, x, side="left")``. Decile edges are order statistics of the reference
(``np.quantile(..., method="inverted_cdf")``), deduplicated, and never equal to the maximum, so
every reference bin holds at least one reference value even for heavily tied data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def decile_edges(sorted_reference: FloatArray, n_bins: int = 10) -> FloatArray:
    """Inner bin edges at the reference's 1/n_bins quantiles (fewer when values tie)."""
    if n_bins < 2:
        raise ValueError("n_bins must be >= 2")
    if sorted_reference.size == 0:
        return np.empty(0)
    levels = np.arange(1, n_bins) / n_bins
    edges = np.unique(np.quantile(sorted_reference, levels, method="inverted_cdf"))
    out: FloatArray = edges[edges < sorted_reference[-1]]
    return out


def bin_counts(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """Counts per right-closed bin of an already sorted, NaN-free sample (len(edges) + 1)."""
    cuts = np.searchsorted(sorted_values, edges, side="right")
    bounds = np.concatenate([[0], cuts, [sorted_values.size]])
    out: IntArray = np.diff(bounds).astype(np.int64)
    return out


def bin_index(values: FloatArray, edges: FloatArray) -> IntArray:
    """The bin of each value (values need not be sorted)."""
    out: IntArray = np.searchsorted(edges, values, side="left").astype(np.int64)
    return out
