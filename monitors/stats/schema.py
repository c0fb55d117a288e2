"""The feature schema the engine works from: which columns exist and how to treat them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from monitors.stats._json import JSONValue
from monitors.stats.errors import StatsConfigError

FeatureKind = Literal["numeric", "categorical", "boolean", "datetime", "text"]
FEATURE_KINDS: tuple[str, ...] = get_args(FeatureKind)


@dataclass(frozen=True)
class FeatureSpec:
    """One column of a model's input.

    ``min_value``/``max_value`` bound numeric values (for datetime features: seconds since the
    Unix epoch, UTC); values outside are counted as out of range by the data-quality check.
    ``categories`` declares the allowed categories; values outside them are out of range.
    ``test`` pins the drift test (see ``docs/stats.md``); ``psi_bins`` fixes the inner PSI bin
    edges instead of reference deciles.
    """

    name: str
    kind: FeatureKind
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    categories: tuple[str, ...] | None = None
    importance: float = 1.0
    is_key: bool = False
    is_segment: bool = False
    test: str | None = None
    psi_bins: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise StatsConfigError("a feature needs a non-empty name")
        # numbers are stored as floats so that a spec reads back exactly as it was written
        for attribute in ("min_value", "max_value", "importance"):
            value = getattr(self, attribute)
            if value is not None:
                object.__setattr__(self, attribute, float(value))
        if self.psi_bins is not None:
            object.__setattr__(self, "psi_bins", tuple(float(b) for b in self.psi_bins))
        if self.categories is not None:
            object.__setattr__(self, "categories", tuple(self.categories))
        if self.kind not in FEATURE_KINDS:
            raise StatsConfigError(f"feature `{self.name}`: kind {self.kind!r} is not one of {FEATURE_KINDS}")
        if not (math.isfinite(self.importance) and self.importance >= 0):
            raise StatsConfigError(
                f"feature `{self.name}`: importance must be a finite number >= 0, got {self.importance!r}"
            )
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise StatsConfigError(
                f"feature `{self.name}`: min_value {self.min_value} exceeds max_value {self.max_value}"
            )
        if self.is_segment and self.kind not in ("categorical", "boolean"):
            raise StatsConfigError(
                f"feature `{self.name}`: only categorical or boolean features can be segment "
                f"columns, this one is {self.kind}"
            )
        if self.psi_bins is not None:
            if self.kind != "numeric":
                raise StatsConfigError(f"feature `{self.name}`: psi_bins apply to numeric features only")
            if not self.psi_bins or not all(math.isfinite(b) for b in self.psi_bins):
                raise StatsConfigError(f"feature `{self.name}`: psi_bins must be finite inner edges")
        if self.categories is not None and self.kind != "categorical":
            raise StatsConfigError(f"feature `{self.name}`: categories apply to categorical features only")

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "kind": self.kind,
            "nullable": self.nullable,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "categories": list(self.categories) if self.categories is not None else None,
            "importance": self.importance,
            "is_key": self.is_key,
            "is_segment": self.is_segment,
            "test": self.test,
            "psi_bins": list(self.psi_bins) if self.psi_bins is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> FeatureSpec:
        categories = data.get("categories")
        psi_bins = data.get("psi_bins")
        return cls(
            name=_str(data["name"]),
            kind=_str(data["kind"]),  # type: ignore[arg-type]  # validated in __post_init__
            nullable=bool(data.get("nullable", True)),
            min_value=_opt_float(data.get("min_value")),
            max_value=_opt_float(data.get("max_value")),
            categories=tuple(_str(c) for c in categories) if isinstance(categories, list) else None,
            importance=float(_num(data.get("importance", 1.0))),
            is_key=bool(data.get("is_key", False)),
            is_segment=bool(data.get("is_segment", False)),
            test=_str(data["test"]) if data.get("test") is not None else None,
            psi_bins=tuple(float(_num(b)) for b in psi_bins) if isinstance(psi_bins, list) else None,
        )


@dataclass(frozen=True)
class ProfileSchema:
    """The features of one model version, in a fixed order."""

    features: tuple[FeatureSpec, ...]
    expected_rows_per_day: int | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise StatsConfigError(f"feature names must be unique; repeated: {duplicates}")
        if self.expected_rows_per_day is not None and self.expected_rows_per_day < 0:
            raise StatsConfigError("expected_rows_per_day must be >= 0")

    def feature(self, name: str) -> FeatureSpec:
        for spec in self.features:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def segment_features(self) -> tuple[FeatureSpec, ...]:
        return tuple(f for f in self.features if f.is_segment)

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "features": [f.as_dict() for f in self.features],
            "expected_rows_per_day": self.expected_rows_per_day,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> ProfileSchema:
        features = data["features"]
        if not isinstance(features, list):
            raise StatsConfigError("schema `features` must be a list")
        expected = data.get("expected_rows_per_day")
        return cls(
            features=tuple(FeatureSpec.from_dict(_dict(f)) for f in features),
            expected_rows_per_day=int(_num(expected)) if expected is not None else None,
        )


def _str(value: JSONValue) -> str:
    if not isinstance(value, str):
        raise StatsConfigError(f"expected a string, got {value!r}")
    return value


def _num(value: JSONValue) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StatsConfigError(f"expected a number, got {value!r}")
    return value


def _opt_float(value: JSONValue) -> float | None:
    return None if value is None else float(_num(value))


def _dict(value: JSONValue) -> dict[str, JSONValue]:
    if not isinstance(value, dict):
        raise StatsConfigError(f"expected an object, got {value!r}")
    return value
