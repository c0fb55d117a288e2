"""A window's columns, converted once into the per-component arrays the tests read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from monitors.stats import columns as col
from monitors.stats.config import ComponentType
from monitors.stats.profile import DiscreteProfile, FeatureProfile

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DiscreteWindow:
    """Category codes (``columns.MISSING`` for missing) and, for tokens, the row of each code."""

    codes: IntArray
    rows: IntArray | None = None

    def counts(self, width: int) -> IntArray:
        present = self.codes[self.codes >= 0]
        out: IntArray = np.bincount(present, minlength=width).astype(np.int64)
        return out

    def subset(self, mask: BoolArray) -> DiscreteWindow:
        if self.rows is None:
            return DiscreteWindow(self.codes[mask])
        keep = mask[self.rows]
        return DiscreteWindow(self.codes[keep], self.rows[keep])


WindowData = FloatArray | DiscreteWindow


@dataclass(frozen=True)
class FeatureWindow:
    """One feature of the window: its components and what the data-quality check needs."""

    n_rows: int
    components: dict[str, WindowData]
    n_unseen: int | None = None
    n_distinct_unseen: int | None = None

    def subset(self, mask: BoolArray) -> FeatureWindow:
        return FeatureWindow(
            n_rows=int(np.count_nonzero(mask)),
            components={
                name: data.subset(mask) if isinstance(data, DiscreteWindow) else data[mask]
                for name, data in self.components.items()
            },
        )


def component_type(kind: str, component: str) -> ComponentType:
    if kind == "boolean":
        return "binary"
    if kind == "text" and component == "tokens":
        return "tokens"
    if kind == "categorical" or component == "day_of_week":
        return "discrete"
    return "continuous"


def prepare_feature(profile: FeatureProfile, values: Any) -> FeatureWindow:
    spec = profile.spec
    n_rows = len(values)
    if spec.kind == "numeric":
        return FeatureWindow(n_rows, {"value": col.numeric_values(spec.name, values)})
    if spec.kind == "boolean":
        flags = col.boolean_values(spec.name, values)
        codes = np.where(np.isnan(flags), col.MISSING, flags).astype(np.int64)
        return FeatureWindow(n_rows, {"value": DiscreteWindow(codes)})
    if spec.kind == "categorical":
        component = profile.components["value"]
        assert isinstance(component, DiscreteProfile)
        coded = col.categorical_codes(spec.name, values, component.lookup, component.unseen_code)
        return FeatureWindow(
            n_rows,
            {"value": DiscreteWindow(coded.codes)},
            n_unseen=None if component.truncated else coded.n_unseen,
            n_distinct_unseen=None if component.truncated else coded.n_distinct_unseen,
        )
    if spec.kind == "datetime":
        value, time_of_day, weekday = col.datetime_parts(col.datetime_ns(spec.name, values))
        return FeatureWindow(
            n_rows,
            {"value": value, "time_of_day": time_of_day, "day_of_week": DiscreteWindow(weekday)},
        )
    lengths, tokens = col.text_parts(spec.name, values)
    component = profile.components["tokens"]
    assert isinstance(component, DiscreteProfile)
    lookup = component.lookup
    other = component.other_code
    flat = [lookup.get(token, other) for row_tokens in tokens for token in row_tokens]
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), [len(t) for t in tokens])
    return FeatureWindow(
        n_rows,
        {"length": lengths, "tokens": DiscreteWindow(np.array(flat, dtype=np.int64), rows)},
    )
