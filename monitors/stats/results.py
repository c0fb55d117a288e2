"""Result types: frozen dataclasses with a JSON-serialisable ``as_dict()``.

Every result the check pipeline stores satisfies :class:`Finding`: a ``kind`` that names the
level of the monitoring pyramid it belongs to, and ``as_dict()``. The univariate results below
are the first kinds; performance, concept-drift, label-shift and multivariate results join them
as further subclasses of :class:`ResultBase` without changing the pipeline.

No float field is ever NaN or infinite: a value that cannot be computed is ``None`` and the
result carries a ``note`` saying why. Constructing a result with NaN raises ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import ClassVar, Literal, Protocol, runtime_checkable

from monitors.stats._json import JSONValue, to_json


@runtime_checkable
class Finding(Protocol):
    """What every stored check result has: a kind and a JSON form."""

    kind: ClassVar[str]

    def as_dict(self) -> dict[str, JSONValue]: ...


_CHECKED_FIELDS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}
_PLAIN = (str, int, bool, type(None))


def _freeze(mapping: dict[str, object], where: str) -> Mapping[str, JSONValue]:
    out: dict[str, JSONValue] = {}
    for key, value in mapping.items():
        kind = type(value)
        if kind in _PLAIN:
            out[key] = value  # type: ignore[assignment]
        elif kind is float:
            if not math.isfinite(value):  # type: ignore[arg-type]
                raise ValueError(f"{where}[{key!r}] is {value!r}; use None with a note")
            out[key] = value  # type: ignore[assignment]
        else:
            out[key] = to_json(value, where=f"{where}[{key!r}]")
    return MappingProxyType(out)


@dataclass(frozen=True)
class ResultBase:
    """Common behaviour: float fields are finite or None, mappings are frozen, JSON out."""

    kind: ClassVar[str] = "result"

    def __post_init__(self) -> None:
        cls = type(self)
        checked = _CHECKED_FIELDS.get(cls)
        if checked is None:
            checked = _CHECKED_FIELDS[cls] = _fields_to_check(cls)
        numbers, mappings = checked
        for name in numbers:
            value = getattr(self, name)
            if type(value) is float and not math.isfinite(value):
                raise ValueError(f"{cls.__name__}.{name} is {value!r}; use None with a note")
        for name in mappings:
            value = getattr(self, name)
            object.__setattr__(self, name, _freeze(dict(value), f"{cls.__name__}.{name}"))

    def as_dict(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {"kind": self.kind}
        for f in fields(self):
            out[f.name] = to_json(getattr(self, f.name), where=f"{type(self).__name__}.{f.name}")
        return out


def _fields_to_check(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The float fields (checked to be finite) and the mapping fields (frozen) of a class."""
    numbers, mappings = [], []
    for f in fields(cls):
        annotation = str(f.type)
        if "float" in annotation:
            numbers.append(f.name)
        elif "Parameters" in annotation or "Mapping" in annotation or "dict" in annotation:
            mappings.append(f.name)
    return tuple(numbers), tuple(mappings)


Parameters = Mapping[str, JSONValue]


@dataclass(frozen=True)
class TestResult(ResultBase):
    """The outcome of one statistical test or distance on one pair of samples.

    ``statistic`` is the test's own statistic (scipy's definition where scipy has the test);
    ``effect_size`` is the scale-free size of the difference used against effect-size
    thresholds (see docs/stats.md); ``method`` says how the p-value (or the statistic, for
    distances) was computed.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class
    kind: ClassVar[str] = "test"

    test: str
    statistic: float | None
    p_value: float | None
    method: str
    n_reference: int
    n_window: int
    effect_size: float | None = None
    parameters: Parameters = field(default_factory=dict)
    note: str | None = None


Role = Literal["primary", "extra"]


@dataclass(frozen=True)
class FeatureDriftResult(ResultBase):
    """One drift test on one feature (or one component of it: a datetime's time of day)."""

    kind: ClassVar[str] = "univariate_drift"

    feature: str
    component: str
    test: str
    role: Role
    statistic: float | None
    p_value: float | None
    adjusted_p_value: float | None
    alpha: float | None
    threshold: float
    effect_size: float | None
    drifted: bool
    n_reference: int
    n_window: int
    method: str
    importance: float = 1.0
    is_key: bool = False
    parameters: Parameters = field(default_factory=dict)
    note: str | None = None

    @property
    def skipped(self) -> bool:
        """True when the test could not be computed (``note`` says why)."""
        return self.statistic is None and self.p_value is None


@dataclass(frozen=True)
class DataQualityResult(ResultBase):
    """Data-quality findings for one column of the window."""

    kind: ClassVar[str] = "data_quality"

    column: str
    feature_kind: str
    n_rows: int
    n_missing: int
    missing_share: float | None
    reference_missing_share: float | None
    n_out_of_range: int | None
    out_of_range_share: float | None
    n_unseen: int | None
    unseen_share: float | None
    n_distinct_unseen: int | None
    window_constant: bool
    reference_constant: bool
    issues: tuple[str, ...]
    passed: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowCountResult(ResultBase):
    """Rows in the window against the number expected."""

    kind: ClassVar[str] = "row_count"

    n_rows: int
    expected_rows: int | None
    ratio: float | None
    min_ratio: float
    max_ratio: float
    passed: bool | None
    note: str | None = None


@dataclass(frozen=True)
class DriftShare(ResultBase):
    """Importance-weighted share of drifted features among those that could be tested."""

    kind: ClassVar[str] = "drift_share"

    share: float | None
    threshold: float
    drifted: bool
    n_features: int
    n_drifted: int
    n_skipped: int
    weight_total: float
    drifted_features: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class SegmentResult(ResultBase):
    """The univariate drift results restricted to one value of a segment column."""

    kind: ClassVar[str] = "segment"

    column: str
    value: str
    n_reference: int
    n_window: int
    features: tuple[FeatureDriftResult, ...]
    drift_share: DriftShare | None
    note: str | None = None


@dataclass(frozen=True)
class UnivariateCheckResult(ResultBase):
    """Everything one univariate check of a window produced, and what produced it."""

    kind: ClassVar[str] = "univariate_check"

    stats_code_version: str
    profile_code_version: str
    config: Parameters
    n_reference_rows: int
    n_window_rows: int
    features: tuple[FeatureDriftResult, ...]
    data_quality: tuple[DataQualityResult, ...]
    row_count: RowCountResult
    drift_share: DriftShare
    segments: tuple[SegmentResult, ...]

    def feature(self, name: str, test: str | None = None, component: str = "value") -> FeatureDriftResult:
        """The primary result for ``name`` (or the one for ``test``), for callers and tests."""
        for r in self.features:
            if r.feature != name or r.component != component:
                continue
            if (test is None and r.role == "primary") or r.test == test:
                return r
        raise KeyError((name, test, component))

    def quality(self, column: str) -> DataQualityResult:
        for r in self.data_quality:
            if r.column == column:
                return r
        raise KeyError(column)
