"""What the stages of one run share: its inputs, read once, and what earlier stages found.

``prepare`` reads the window (production rows of the run's version for [start, end), as of a
label-ingest point) and the version's reference profile through the data plane, and records
which batches it read; stages then work on arrays in memory. The univariate check is computed
once and shared by the data-quality and drift stages. Timings are kept per kind of work so the
sweep benchmark can say where the time goes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitors.checks.models import CheckRun

if TYPE_CHECKING:
    from monitors.checks.stages.base import StageOutcome
    from monitors.stats import DriftConfig, ReferenceProfile, UnivariateCheckResult


class InputsUnavailable(Exception):
    """The run cannot read what it needs (no schema, no reference, inputs purged)."""


@dataclass(frozen=True)
class Pinned:
    """Exactly what an earlier run read and how it was configured (``recompute``)."""

    data_sha256s: tuple[str, ...]
    label_sha256s: tuple[str, ...]
    as_of_sequence: int | None
    reference_sha256: str
    reference_profile_sha256: str
    parameters: dict[str, Any]
    seeds: dict[str, Any]
    schema_id: int | None


class RunContext:
    def __init__(self, run: CheckRun, *, pinned: Pinned | None = None) -> None:
        self.run = run
        self.pinned = pinned
        self.plan = run.plan
        self.outcomes: dict[str, StageOutcome] = {}
        self.timings: dict[str, float] = {"storage_read": 0.0, "statistics": 0.0, "database_read": 0.0}
        self.columns: dict[str, Any] = {}
        self.n_rows = 0
        self.profile: ReferenceProfile | None = None
        self.config: DriftConfig | None = None
        self.parameters: dict[str, Any] = {}
        self.seeds: dict[str, Any] = dict(pinned.seeds if pinned else run.seeds)
        self._inputs: dict[str, Any] = {}
        self._univariate: UnivariateCheckResult | None = None
        self.schema: Any = None
        self.integrity_errors: list[str] = []

    @contextmanager
    def timed(self, what: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[what] = self.timings.get(what, 0.0) + time.perf_counter() - started

    # --- inputs ------------------------------------------------------------------------------

    def prepare(self) -> None:
        from monitors.checks import inputs

        with self.timed("database_read"):
            self.schema = inputs.schema_for(self.run, pinned=self.pinned)
            self.config, self.parameters = inputs.drift_config(self.run, self.schema, pinned=self.pinned)
        profile = inputs.reference_profile(self.run, self.schema, pinned=self.pinned, context=self)
        self.profile = profile.profile
        self._inputs.update(
            reference_sha256=profile.reference_sha256, reference_profile_sha256=profile.profile_sha256
        )
        window = inputs.window(self.run, self.profile, pinned=self.pinned, context=self)
        self.columns = window.columns
        self.n_rows = window.n_rows
        self._inputs.update(
            data_sha256s=list(window.data_sha256s),
            label_sha256s=list(window.label_sha256s),
            as_of_sequence=window.as_of_sequence,
            n_rows=window.n_rows,
        )

    def univariate(self) -> UnivariateCheckResult:
        """The statistics engine's univariate check of the window, computed once per run."""
        if self._univariate is None:
            from monitors.stats import run_univariate_check

            assert self.profile is not None and self.config is not None
            with self.timed("statistics"):
                self._univariate = run_univariate_check(
                    self.profile,
                    self.columns,
                    self.config,
                    expected_rows=self.parameters.get("expected_rows"),
                )
        return self._univariate

    def verify_stored(self, *, what: str, name: str, expected: str) -> bytes:
        """Read a stored file whole and compare its sha256 with the one on record; a mismatch is
        kept (``recompute`` reports it) and the bytes are used as they are."""
        from monitors.storage import open_stored

        with open_stored(name) as handle:
            data = handle.read()
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            self.integrity_errors.append(f"{what}: stored bytes hash to {actual}, recorded {expected}")
        return data

    # --- what the run row records ------------------------------------------------------------

    def provenance(self) -> dict[str, Any]:
        from monitors.stats import STATS_CODE_VERSION

        fields: dict[str, Any] = {
            "stats_code_version": STATS_CODE_VERSION,
            "parameters": self.parameters,
            "seeds": self.seeds,
        }
        if self.schema is not None:
            fields["schema_id"] = self.schema.pk
        fields.update(self._inputs)
        return fields

    def headline(self) -> dict[str, Any]:
        if self._univariate is None:
            return {}
        share = self._univariate.drift_share
        drift_stage = self.outcomes.get("univariate_drift")
        if drift_stage is None or drift_stage.status != "succeeded":
            return {"summary": {"n_rows": self.n_rows}}
        return {
            "drift_share": share.share,
            "drift_detected": share.drifted,
            "summary": {
                "n_rows": self.n_rows,
                "drifted_features": list(share.drifted_features),
                "n_features": share.n_features,
                "n_skipped": share.n_skipped,
            },
        }
