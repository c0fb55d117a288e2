"""The reference artefact: the rows of a reference that later stages need as rows, not as a
profile, computed once per reference and stored beside its profile.

It holds

- a seeded, row-aligned **subsample** of the reference's profiled rows (train and validation;
  all rows when there are only holdout rows): every feature, the target, the prediction and the
  scores, with each row's 0-based position in the stored reference Parquet (``row_index``);
- the **distributions** of target, prediction and scores over those rows: counts per value for
  strings and for numbers with at most ``DISCRETE_MAX_VALUES`` distinct values, else a
  ``HISTOGRAM_BINS``-bin equal-width histogram (scores are always histograms);
- **every holdout row**'s target, prediction and scores, up to ``holdout_cap`` rows; over the cap
  a seeded sample of ``holdout_cap`` rows, and the header says so (``holdout.sampled``).

What a stage computes from it (the holdout's confusion matrix, a scaler, a calibrator) is a pure
function of these arrays. It holds raw values and is purged with the reference under retention.

Bytes: the profile's format (an uncompressed npz with a sorted ``header.json``, fixed zip
timestamps, no pickle), so the same reference and settings always give the same bytes. Strings
are stored as fixed-width unicode with a ``.missing`` mask, datetimes as datetime64[ns].
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from monitors.stats._json import JSONValue
from monitors.stats.confusion import ConfusionResult, confusion_matrix, none_mask
from monitors.stats.errors import ProfileFormatError, StatsConfigError, StatsInputError
from monitors.stats.profile import _frozen, _read_zip, _write_zip

#: Bump when what an artefact contains, or how it is computed, changes.
ARTEFACT_CODE_VERSION = "1.0.0"

FORMAT_NAME = "fleetwatch.reference_artefact"
FORMAT_VERSION = 1
DISCRETE_MAX_VALUES = 50
HISTOGRAM_BINS = 20

Role = Literal["feature", "target", "prediction", "score"]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ArtefactRoles:
    """Which reference columns are features, target, prediction and scores."""

    features: tuple[str, ...]
    target: str | None
    prediction: str | None
    scores: tuple[str, ...]

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Target, prediction and scores: what the holdout keeps."""
        return tuple(n for n in (self.target, self.prediction, *self.scores) if n is not None)

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.features, *self.outcomes)))

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "features": list(self.features),
            "target": self.target,
            "prediction": self.prediction,
            "scores": list(self.scores),
        }


@dataclass(frozen=True, eq=False)
class Distribution:
    """Counts per value (``discrete``: ``values`` are the sorted values) or an equal-width
    histogram (``histogram``: ``values`` are the bin edges, one more than the counts)."""

    kind: Literal["discrete", "histogram"]
    values: npt.NDArray[Any]
    counts: IntArray
    n_missing: int


@dataclass(frozen=True, eq=False)
class RowSet:
    """Rows of the reference: their positions in the stored Parquet and one array per column,
    in the engine's conventions (float64 with NaN, object arrays of str/None, datetime64[ns])."""

    row_index: IntArray
    columns: Mapping[str, npt.NDArray[Any]]

    @property
    def n(self) -> int:
        return int(self.row_index.size)


@dataclass(frozen=True, eq=False)
class ReferenceArtefact:
    code_version: str
    roles: ArtefactRoles
    seed: int
    n_rows: int  # rows in the reference
    n_profiled: int  # rows the subsample and distributions are drawn from
    subsample_rows: int  # the setting: at most this many rows in the subsample
    subsample: RowSet
    distributions: Mapping[str, Distribution]
    holdout_cap: int
    holdout_rows: int  # holdout rows in the reference
    holdout: RowSet  # all of them, or a seeded sample of ``holdout_cap`` when over the cap

    @property
    def holdout_sampled(self) -> bool:
        return self.holdout.n < self.holdout_rows

    @property
    def holds_raw_values(self) -> bool:
        return True

    def holdout_confusion(self) -> ConfusionResult:
        """The holdout's confusion matrix and metrics, prediction against target."""
        if self.roles.target is None or self.roles.prediction is None:
            raise StatsInputError("target", "and a prediction column are needed for a confusion matrix")
        return confusion_matrix(
            self.holdout.columns[self.roles.target], self.holdout.columns[self.roles.prediction]
        )

    def to_bytes(self) -> bytes:
        arrays: dict[str, npt.NDArray[Any]] = {}
        header: dict[str, JSONValue] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "code_version": self.code_version,
            "holds_raw_values": self.holds_raw_values,
            "roles": self.roles.as_dict(),
            "seed": self.seed,
            "n_rows": self.n_rows,
            "n_profiled": self.n_profiled,
            "subsample": {
                "rows_setting": self.subsample_rows,
                "n": self.subsample.n,
                "columns": _write_rows("subsample", self.subsample, arrays),
            },
            "holdout": {
                "cap": self.holdout_cap,
                "rows": self.holdout_rows,
                "n": self.holdout.n,
                "sampled": self.holdout_sampled,
                "columns": _write_rows("holdout", self.holdout, arrays),
            },
            "distributions": [
                _write_distribution(i, name, d, arrays)
                for i, (name, d) in enumerate(sorted(self.distributions.items()))
            ],
        }
        return _write_zip(header, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceArtefact:
        header, arrays = _read_zip(data)
        if header.get("format") != FORMAT_NAME or header.get("format_version") != FORMAT_VERSION:
            raise ProfileFormatError(f"not a reference artefact of format {FORMAT_NAME} v{FORMAT_VERSION}")
        try:
            roles = header["roles"]
            return cls(
                code_version=str(header["code_version"]),
                roles=ArtefactRoles(
                    features=tuple(roles["features"]),
                    target=roles["target"],
                    prediction=roles["prediction"],
                    scores=tuple(roles["scores"]),
                ),
                seed=int(header["seed"]),
                n_rows=int(header["n_rows"]),
                n_profiled=int(header["n_profiled"]),
                subsample_rows=int(header["subsample"]["rows_setting"]),
                subsample=_read_rows("subsample", header["subsample"]["columns"], arrays),
                distributions={
                    d["name"]: _read_distribution(i, d, arrays) for i, d in enumerate(header["distributions"])
                },
                holdout_cap=int(header["holdout"]["cap"]),
                holdout_rows=int(header["holdout"]["rows"]),
                holdout=_read_rows("holdout", header["holdout"]["columns"], arrays),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileFormatError(f"reference artefact is incomplete or malformed: {exc}") from exc

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()


# --- building ------------------------------------------------------------------------------


def build_reference_artefact(
    columns: Mapping[str, Any],
    roles: ArtefactRoles,
    *,
    holdout: npt.NDArray[np.bool_],
    subsample_rows: int,
    holdout_cap: int,
    seed: int,
) -> ReferenceArtefact:
    """Build from the whole reference: one array per column of ``roles`` (engine conventions),
    ``holdout`` marking the holdout rows. Sampling is ``np.random.default_rng(seed)`` without
    replacement, kept in row order."""
    if subsample_rows < 1 or holdout_cap < 1:
        raise StatsConfigError("subsample_rows and holdout_cap must be >= 1")
    holdout = np.asarray(holdout, dtype=bool)
    n_rows = int(holdout.size)
    for name in roles.all:
        if name not in columns:
            raise StatsInputError(name, "is missing from the reference")
        if len(columns[name]) != n_rows:
            raise StatsInputError(name, f"has {len(columns[name])} rows but the reference has {n_rows}")
    profiled = ~holdout if (~holdout).any() else np.ones(n_rows, dtype=bool)
    profiled_rows = np.flatnonzero(profiled).astype(np.int64)
    holdout_positions = np.flatnonzero(holdout).astype(np.int64)
    rng = np.random.default_rng(seed)
    sub_index = _sample(rng, profiled_rows, subsample_rows)
    hold_index = _sample(rng, holdout_positions, holdout_cap)
    distributions = {
        name: _distribution(np.asarray(columns[name])[profiled_rows], histogram=name in roles.scores)
        for name in roles.outcomes
    }
    return ReferenceArtefact(
        code_version=ARTEFACT_CODE_VERSION,
        roles=roles,
        seed=seed,
        n_rows=n_rows,
        n_profiled=int(profiled_rows.size),
        subsample_rows=subsample_rows,
        subsample=_rows(columns, roles.all, sub_index),
        distributions=distributions,
        holdout_cap=holdout_cap,
        holdout_rows=int(holdout_positions.size),
        holdout=_rows(columns, roles.outcomes, hold_index),
    )


def _sample(rng: np.random.Generator, positions: IntArray, size: int) -> IntArray:
    if positions.size <= size:
        return positions
    return np.sort(rng.choice(positions, size=size, replace=False)).astype(np.int64)


def _rows(columns: Mapping[str, Any], names: tuple[str, ...], index: IntArray) -> RowSet:
    return RowSet(
        row_index=_frozen(index),
        columns={name: _frozen(np.asarray(columns[name])[index]) for name in names},
    )


def _distribution(values: npt.NDArray[Any], *, histogram: bool) -> Distribution:
    if values.dtype == object:
        missing = none_mask(values)
        labels, counts = np.unique(np.asarray(values[~missing]).astype(str), return_counts=True)
        return Distribution("discrete", _frozen(labels), _frozen(counts.astype(np.int64)), int(missing.sum()))
    numbers = np.asarray(values, dtype=np.float64)
    absent: npt.NDArray[np.bool_] = ~np.isfinite(numbers)
    present = numbers[np.logical_not(absent)]
    distinct, counts = np.unique(present, return_counts=True)
    if not histogram and distinct.size <= DISCRETE_MAX_VALUES:
        return Distribution(
            "discrete", _frozen(distinct), _frozen(counts.astype(np.int64)), int(absent.sum())
        )
    bins, edges = np.histogram(present, bins=HISTOGRAM_BINS)
    return Distribution("histogram", _frozen(edges), _frozen(bins.astype(np.int64)), int(absent.sum()))


# --- serialisation ---------------------------------------------------------------------------


def _write_rows(prefix: str, rows: RowSet, arrays: dict[str, npt.NDArray[Any]]) -> list[JSONValue]:
    arrays[f"{prefix}.row_index"] = rows.row_index
    described: list[JSONValue] = []
    for i, (name, values) in enumerate(rows.columns.items()):
        key = f"{prefix}.c{i}"
        if values.dtype == object:
            missing = none_mask(values)
            arrays[f"{key}.missing"] = missing
            arrays[key] = (
                np.where(missing, "", values).astype(str) if values.size else np.array([], dtype="<U1")
            )
            encoding = "string"
        elif np.issubdtype(values.dtype, np.datetime64):
            arrays[key] = values.astype("datetime64[ns]")
            encoding = "datetime"
        else:
            arrays[key] = values.astype(np.float64)
            encoding = "float"
        described.append({"name": name, "encoding": encoding})
    return described


def _read_rows(
    prefix: str, described: list[dict[str, str]], arrays: Mapping[str, npt.NDArray[Any]]
) -> RowSet:
    columns: dict[str, npt.NDArray[Any]] = {}
    for i, column in enumerate(described):
        key = f"{prefix}.c{i}"
        stored = arrays[key]
        if column["encoding"] == "string":
            values = stored.astype(object)
            values[arrays[f"{key}.missing"]] = None
        elif column["encoding"] == "datetime":
            values = stored.astype("datetime64[ns]")
        else:
            values = stored.astype(np.float64)
        columns[column["name"]] = _frozen(values)
    return RowSet(row_index=_frozen(arrays[f"{prefix}.row_index"].astype(np.int64)), columns=columns)


def _write_distribution(i: int, name: str, d: Distribution, arrays: dict[str, npt.NDArray[Any]]) -> JSONValue:
    key = f"distribution.d{i}"
    arrays[f"{key}.values"] = d.values
    arrays[f"{key}.counts"] = d.counts
    return {"name": name, "kind": d.kind, "n_missing": d.n_missing}


def _read_distribution(i: int, d: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> Distribution:
    key = f"distribution.d{i}"
    return Distribution(
        kind=d["kind"],
        values=_frozen(arrays[f"{key}.values"]),
        counts=_frozen(arrays[f"{key}.counts"].astype(np.int64)),
        n_missing=int(d["n_missing"]),
    )
