"""A check run's inputs as one frozen value: what every stage of its playbook reads.

``inputs.run_inputs_load`` builds it once per run (from the window as it stands, or, for a
recompute, from exactly what an earlier run read); stages take it and never reach back into the
database or storage for the window or the reference. It holds no back-reference to a run row or
a context: ids, the window, the configuration, the arrays and the hashes that say where they
came from.

The reference artefact (a row-aligned subsample, the holdout's rows, the outcome
distributions) is not read with the rest: ``reference_artefact()`` reads it on a stage's first
ask, through the ``ReferenceArtefactSource`` the loader hands over, and only then does the run
record its sha256. A drift run's stages never ask, so a nightly drift check never reads it.
What is fitted from it (``fitted_state(fitter)``) comes from the fitted-state cache: fitted once
per reference, never per night.

A value that several stages use and that is worth computing only once (the statistics engine's
univariate check, shared by the data-quality and drift stages) is a named method here, memoised
in a small cache the value owns (``Derived``). It is a pure function of the other fields, so the
value stays what it was built as; the cache only saves recomputing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from monitors.stats import DriftConfig, ProfileSchema, UnivariateCheckResult
    from monitors.stats import ReferenceProfile as EngineProfile
    from monitors.stats.fitted import FittedParams, Fitter
    from monitors.stats.reference_artefact import ReferenceArtefact as EngineArtefact

T = TypeVar("T")


class Derived:
    """Values computed from one ``RunInputs`` that more than one stage uses, each computed at most
    once; ``seconds`` is the time spent computing them (the runner books it as statistics)."""

    __slots__ = ("_values", "seconds")

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self.seconds = 0.0

    def once(self, name: str, compute: Callable[[], T]) -> T:
        if name not in self._values:
            started = time.perf_counter()
            try:
                self._values[name] = compute()
            finally:
                self.seconds += time.perf_counter() - started
        return cast(T, self._values[name])


class ArtefactRead(Protocol):
    """The artefact as the loader read it: the engine's value and the sha256 of its bytes."""

    @property
    def artefact(self) -> EngineArtefact: ...

    @property
    def sha256(self) -> str: ...


class ReferenceArtefactSource:
    """How a run reads its reference artefact: lazily, at most once, when a stage first asks.

    ``read`` is the loader's (it checks retention, verifies a pinned artefact's bytes and notes
    the sha256 for the run row); ``fit`` is the fitted-state cache's lookup-or-fit."""

    __slots__ = ("_fit", "_read", "_value")

    def __init__(
        self,
        read: Callable[[], ArtefactRead],
        fit: Callable[[ArtefactRead, Fitter], FittedParams],
    ) -> None:
        self._read = read
        self._fit = fit
        self._value: ArtefactRead | None = None

    def get(self) -> ArtefactRead:
        if self._value is None:
            self._value = self._read()
        return self._value

    def fitted(self, fitter: Fitter) -> FittedParams:
        return self._fit(self.get(), fitter)

    @property
    def read_sha256(self) -> str | None:
        return self._value.sha256 if self._value is not None else None


@dataclass(frozen=True, slots=True)
class RunInputs:
    # which run: ids and the window, never the row itself
    run_id: int | None  # None for a recompute's draft, which is saved only at its commit
    model_id: int
    version_id: int
    kind: str
    window_start: datetime
    window_end: datetime
    # how it is checked: the schema version, the drift configuration and the recorded parameters
    schema_id: int
    drift_config: DriftConfig
    parameters: Mapping[str, Any]
    seeds: Mapping[str, Any]
    # the reference: the engine's profile and the sha256s of the batch and of the stored profile
    profile: EngineProfile
    reference_sha256: str
    reference_profile_sha256: str
    # the window: one array per schema feature, and the batches it was read from
    columns: Mapping[str, Any]
    n_rows: int
    data_sha256s: tuple[str, ...]
    label_sha256s: tuple[str, ...]
    as_of_sequence: int | None
    # the reference artefact, read only if a stage asks (see the module docstring)
    artefact_source: ReferenceArtefactSource | None = field(default=None, repr=False, compare=False)
    derived: Derived = field(default_factory=Derived, repr=False, compare=False)

    @property
    def schema(self) -> ProfileSchema:
        """The features as the statistics engine sees them (kinds, ranges, importance)."""
        return self.profile.schema

    @property
    def min_sample_size(self) -> int:
        return int(self.parameters.get("min_sample_size") or 0)

    @property
    def expected_rows(self) -> int | None:
        return cast("int | None", self.parameters.get("expected_rows"))

    def univariate(self) -> UnivariateCheckResult:
        """The statistics engine's univariate check of the window against the reference: data
        quality, per-feature drift, drift share, segments. Computed at most once per run."""

        def compute() -> UnivariateCheckResult:
            from monitors.stats import run_univariate_check

            return run_univariate_check(
                self.profile, self.columns, self.drift_config, expected_rows=self.expected_rows
            )

        return self.derived.once("univariate", compute)

    def reference_artefact(self) -> EngineArtefact:
        """The reference artefact, read on the first call (and recorded on the run then)."""
        return self._artefact_source().get().artefact

    @property
    def reference_artefact_sha256(self) -> str | None:
        """The artefact's sha256 once a stage has read it; None while nothing asked for it."""
        return self.artefact_source.read_sha256 if self.artefact_source is not None else None

    def fitted_state(self, fitter: Fitter) -> FittedParams:
        """What ``fitter`` fits from the reference artefact, from the fitted-state cache: fitted
        the first time any run asks for this reference, read from storage every time after."""
        return self._artefact_source().fitted(fitter)

    def _artefact_source(self) -> ReferenceArtefactSource:
        if self.artefact_source is None:
            raise LookupError("these inputs were built without a reference artefact source")
        return self.artefact_source
