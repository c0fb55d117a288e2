"""Exactly what an earlier run read and how it was configured: what ``recompute`` hands the loader
so that it reads those very batches, profile, artefact, parameters and seeds instead of what the window
holds now. A leaf: plain data, built from a run row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitors.checks.models import CheckRun


@dataclass(frozen=True)
class Pinned:
    data_sha256s: tuple[str, ...]
    label_sha256s: tuple[str, ...]
    as_of_sequence: int | None
    reference_sha256: str
    reference_profile_sha256: str
    parameters: dict[str, Any]
    seeds: dict[str, Any]
    schema_id: int | None
    # empty when the run never read its reference artefact (a drift run)
    reference_artefact_sha256: str = ""

    @classmethod
    def of_run(cls, run: CheckRun) -> Pinned:
        """What ``run`` recorded about its inputs."""
        return cls(
            data_sha256s=tuple(run.data_sha256s),
            label_sha256s=tuple(run.label_sha256s),
            as_of_sequence=run.as_of_sequence,
            reference_sha256=run.reference_sha256,
            reference_profile_sha256=run.reference_profile_sha256,
            parameters=dict(run.parameters),
            seeds=dict(run.seeds),
            schema_id=run.schema_id,
            reference_artefact_sha256=run.reference_artefact_sha256,
        )
