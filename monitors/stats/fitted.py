"""Fitted state: what a stage fits once per reference artefact (a scaler, encoders, a
calibrator, a PCA) and reuses every night, as plain parameters.

A *fitter* is a small object with a ``name``, a ``version`` (bump it when what ``fit`` computes
changes) and ``fit(artefact) -> FittedParams``: JSON-safe metadata and named numpy arrays, never
a pickled estimator. The cache that stores one ``FittedParams`` per (artefact sha256, fitter
name, fitter version) is ``monitors.fitted``; this module is its pure half, plus the fitters
the engine ships.

Bytes: the profile's npz format (sorted JSON header, fixed zip timestamps, no pickle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from monitors.stats._json import JSONValue
from monitors.stats.errors import ProfileFormatError
from monitors.stats.profile import _read_zip, _write_zip
from monitors.stats.reference_artefact import ReferenceArtefact

FORMAT_NAME = "fleetwatch.fitted_state"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class FittedParams:
    meta: Mapping[str, JSONValue] = field(default_factory=dict)
    arrays: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)

    def to_bytes(self, *, fitter: str, version: str) -> bytes:
        header: dict[str, JSONValue] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "fitter": fitter,
            "fitter_version": version,
            "meta": dict(self.meta),
            "arrays": list[JSONValue](sorted(self.arrays)),
        }
        return _write_zip(header, {f"a.{name}": array for name, array in self.arrays.items()})

    @classmethod
    def from_bytes(cls, data: bytes) -> FittedParams:
        header, arrays = _read_zip(data)
        if header.get("format") != FORMAT_NAME or header.get("format_version") != FORMAT_VERSION:
            raise ProfileFormatError(f"not a fitted state of format {FORMAT_NAME} v{FORMAT_VERSION}")
        try:
            named = {name: arrays[f"a.{name}"] for name in header["arrays"]}
        except KeyError as exc:
            raise ProfileFormatError(f"fitted state lacks array {exc}") from exc
        for array in named.values():
            array.flags.writeable = False
        return cls(meta=header.get("meta") or {}, arrays=named)


class Fitter(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def fit(self, artefact: ReferenceArtefact) -> FittedParams: ...


@dataclass(frozen=True)
class StandardScaler:
    """Means and (population) standard deviations of the subsample's numeric features, NaN
    ignored; a feature with no values or no spread gets mean 0 / std 1 so that scaling is
    the identity for it. Features in the artefact's order; non-numeric ones are left out."""

    name: str = "standard_scaler"
    version: str = "1"

    def fit(self, artefact: ReferenceArtefact) -> FittedParams:
        names = [n for n in artefact.roles.features if artefact.subsample.columns[n].dtype == np.float64]
        if names:
            matrix = np.column_stack([artefact.subsample.columns[n] for n in names])
            present = ~np.isnan(matrix)
            counts = present.sum(axis=0)
            filled = np.where(present, matrix, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(counts > 0, filled.sum(axis=0) / counts, 0.0)
                centred = np.where(present, matrix - mean, 0.0)
                std = np.sqrt(np.where(counts > 0, (centred**2).sum(axis=0) / counts, 1.0))
            std = np.where(std > 0, std, 1.0)
        else:
            mean = np.zeros(0)
            std = np.ones(0)
        return FittedParams(
            meta={"features": list(names)},
            arrays={"mean": mean.astype(np.float64), "std": std.astype(np.float64)},
        )


@dataclass(frozen=True)
class HoldoutConfusion:
    """The holdout's confusion matrix (prediction against target) with its labels."""

    name: str = "holdout_confusion"
    version: str = "1"

    def fit(self, artefact: ReferenceArtefact) -> FittedParams:
        result = artefact.holdout_confusion()
        return FittedParams(
            meta={"labels": list(result.labels), "n": result.n, "n_missing": result.n_missing},
            arrays={"matrix": result.matrix},
        )
