"""Synthetic reference and production data for a model's schema, with optional drift.

Generated, never downloaded: the demo, the check-pipeline tests and ``make bench-sweep`` use it.
Each feature's distribution is derived from its name (so two calls agree without sharing state)
and every frame from an explicit seed, so the same arguments always give the same rows:

- numeric: a normal or log-normal with a name-derived location and scale, clipped to the spec's
  [min_value, max_value]; drift ``d`` moves the location by ``d`` standard deviations;
- categorical: name-derived category probabilities; drift ``d`` moves a share ``d`` (capped at
  0.9) of the probability mass onto the least frequent category;
- boolean: a name-derived rate; drift ``d`` adds ``0.25 * d`` to it;
- datetime: seconds since the epoch spread over the window; text: a few words.

Binary targets follow a logistic model of the numeric features, and scores are that model with
noise, so performance stages get labels that relate to the inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

_WORDS = np.array(["loan", "card", "salary", "rent", "transfer", "online", "branch", "fee", "refund", "atm"])


@dataclass(frozen=True)
class Feature:
    """What the generator needs of a feature; registry ``FeatureSpec`` rows fit as they are."""

    name: str
    kind: str = "numeric"
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    categories: tuple[str, ...] | list[str] | None = None
    importance: float = 1.0


def fleet_schema(*, numeric: int = 20, categorical: int = 8, boolean: int = 2) -> list[Feature]:
    """A credit-style schema: named numeric features with plausible ranges, categoricals with a
    handful of levels, a couple of flags. ``numeric + categorical + boolean`` features in all."""
    features: list[Feature] = []
    for i in range(numeric):
        features.append(
            Feature(
                name=f"num_{i:02d}",
                kind="numeric",
                min_value=None,
                max_value=None,
                importance=round(1.0 / (1 + i % 5), 3),
            )
        )
    for i in range(categorical):
        levels = 3 + i % 6
        features.append(
            Feature(
                name=f"cat_{i:02d}",
                kind="categorical",
                categories=tuple(f"level_{j}" for j in range(levels)),
                importance=0.5,
            )
        )
    for i in range(boolean):
        features.append(Feature(name=f"flag_{i:02d}", kind="boolean", importance=0.25))
    return features


def _name_rng(name: str) -> np.random.Generator:
    digest = hashlib.sha256(name.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _categories(feature: Any) -> list[str]:
    cats = getattr(feature, "categories", None)
    return [str(c) for c in cats] if cats else [f"{feature.name}_{j}" for j in range(4)]


def _numeric(feature: Any, rows: int, rng: np.random.Generator, drift: float) -> np.ndarray:
    shape = _name_rng(feature.name)
    low = getattr(feature, "min_value", None)
    high = getattr(feature, "max_value", None)
    lognormal = shape.random() < 0.3 and high is None
    # Inside the declared range, so that clipping trims tails instead of flattening the column.
    if low is not None and high is not None:
        location = low + (high - low) * shape.uniform(0.3, 0.6)
        scale = (high - low) * shape.uniform(0.05, 0.15)
    else:
        scale = shape.uniform(0.5, 3.0)
        location = low + 4 * scale if low is not None else shape.uniform(-2, 5)
    if lognormal:
        values = (low or 0.0) + np.exp(rng.normal(0.0, 0.5, rows) + drift * 0.5) * scale
    else:
        values = rng.normal(location + drift * scale, scale, rows)
    if low is not None or high is not None:
        values = np.clip(values, low, high)
    return values


def _categorical(feature: Any, rows: int, rng: np.random.Generator, drift: float) -> np.ndarray:
    cats = _categories(feature)
    probabilities = _name_rng(feature.name).dirichlet(np.full(len(cats), 2.0))
    if drift:
        moved = min(abs(drift), 0.9)
        rare = int(np.argmin(probabilities))
        probabilities = probabilities * (1 - moved)
        probabilities[rare] += moved
    return rng.choice(np.array(cats, dtype=object), size=rows, p=probabilities / probabilities.sum())


def _boolean(feature: Any, rows: int, rng: np.random.Generator, drift: float) -> np.ndarray:
    rate = float(np.clip(_name_rng(feature.name).uniform(0.1, 0.6) + 0.25 * drift, 0.01, 0.99))
    return rng.random(rows) < rate


def _datetime(rows: int, rng: np.random.Generator, start: datetime, end: datetime) -> np.ndarray:
    low, high = start.timestamp(), end.timestamp()
    return pd.to_datetime(rng.uniform(low, high, rows), unit="s", utc=True).to_numpy()


def feature_columns(
    features: Iterable[Any],
    *,
    rows: int,
    seed: int,
    drift: float | Mapping[str, float] = 0.0,
    missing_share: float = 0.0,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """The feature columns only, as numpy arrays (or object arrays for categories)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for feature in features:
        shift = drift.get(feature.name, 0.0) if isinstance(drift, Mapping) else drift
        kind = feature.kind
        if kind == "numeric":
            values: Any = _numeric(feature, rows, rng, shift)
        elif kind == "categorical":
            values = _categorical(feature, rows, rng, shift)
        elif kind == "boolean":
            values = _boolean(feature, rows, rng, shift)
        elif kind == "datetime":
            values = _datetime(rows, rng, start or datetime(2024, 1, 1), end or datetime(2024, 12, 31))
        else:
            values = np.array([" ".join(rng.choice(_WORDS, 3)) for _ in range(rows)], dtype=object)
        if missing_share and getattr(feature, "nullable", True) and kind in ("numeric", "categorical"):
            mask = rng.random(rows) < missing_share
            values = values.astype(object) if kind == "categorical" else values.astype(float)
            values[mask] = None if kind == "categorical" else np.nan
        columns[feature.name] = values
    return columns


def _scores(
    columns: Mapping[str, Any], features: Sequence[Any], rng: np.random.Generator, concept_drift: float
) -> np.ndarray:
    rows = len(next(iter(columns.values()))) if columns else 0
    logit = np.zeros(rows)
    numeric = [f.name for f in features if f.kind == "numeric"][:5]
    for i, name in enumerate(numeric):
        values = np.nan_to_num(np.asarray(columns[name], dtype=float))
        std = values.std() or 1.0
        weight = (1.0 if i % 2 == 0 else -0.7) * (1 - concept_drift if i == 0 else 1)
        logit += weight * (values - values.mean()) / std
    return 1.0 / (1.0 + np.exp(-(logit + rng.normal(0, 0.5, rows))))


def reference_frame(
    features: Sequence[Any],
    *,
    rows: int,
    seed: int,
    target_column: str = "target",
    prediction_column: str = "prediction",
    score_column: str | None = "score",
    holdout_share: float = 0.2,
) -> pd.DataFrame:
    """Training/validation data with labels and predictions, a ``split`` column marking the
    holdout."""
    columns = feature_columns(features, rows=rows, seed=seed)
    rng = np.random.default_rng(seed + 1)
    score = _scores(columns, features, rng, 0.0)
    frame = pd.DataFrame(columns)
    frame[target_column] = (rng.random(rows) < score).astype(float)
    frame[prediction_column] = (score >= 0.5).astype(float)
    if score_column:
        frame[score_column] = score
    split = np.where(rng.random(rows) < holdout_share, "holdout", "train")
    frame["split"] = split
    return frame


def production_frame(
    features: Sequence[Any],
    *,
    rows: int,
    seed: int,
    start: datetime,
    end: datetime,
    version_label: str,
    record_prefix: str,
    drift: float | Mapping[str, float] = 0.0,
    missing_share: float = 0.0,
    record_id_column: str = "record_id",
    timestamp_column: str = "timestamp",
    version_column: str = "version",
    prediction_column: str = "prediction",
    score_column: str | None = "score",
    with_target: str | None = None,
    concept_drift: float = 0.0,
) -> pd.DataFrame:
    """Scored inference records with timestamps spread over [start, end). ``with_target`` adds the
    (later known) label under that column name, for building a matching label batch."""
    columns = feature_columns(
        features, rows=rows, seed=seed, drift=drift, missing_share=missing_share, start=start, end=end
    )
    rng = np.random.default_rng(seed + 1)
    span = (end - start).total_seconds()
    offsets = np.sort(rng.uniform(0, span, rows))
    timestamps = pd.Timestamp(start).tz_convert("UTC") + pd.to_timedelta(offsets, unit="s")
    score = _scores(columns, features, rng, concept_drift)
    frame = pd.DataFrame(
        {
            record_id_column: [f"{record_prefix}-{i:07d}" for i in range(rows)],
            timestamp_column: timestamps,
            version_column: version_label,
        }
    )
    for name, values in columns.items():
        frame[name] = values
    frame[prediction_column] = (score >= 0.5).astype(float)
    if score_column:
        frame[score_column] = score
    if with_target:
        frame[with_target] = (rng.random(rows) < score).astype(float)
    return frame


def label_frame(
    production: pd.DataFrame,
    *,
    target_column: str,
    record_id_column: str = "record_id",
    share: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """The labels of (a share of) a production frame made with ``with_target``."""
    rng = np.random.default_rng(seed)
    keep = rng.random(len(production)) < share
    return production.loc[keep, [record_id_column, target_column]].reset_index(drop=True)
