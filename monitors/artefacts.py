"""Reference artefacts: the rows of a reference that stages need as rows (a seeded subsample,
every holdout row's target, prediction and scores, the outcome distributions), built once per
reference beside its profile and stored by sha256.

Keyed like the profile, by (reference Parquet sha256, schema version, artefact code version);
the settings it was built with (``FLEETWATCH_REFERENCE_SUBSAMPLE_ROWS``,
``FLEETWATCH_REFERENCE_HOLDOUT_CAP``) and its seed (from the reference's sha256) are in its row
and its header, so rebuilding it from the same reference gives the same bytes. It is built at
ingest, right after the profile, and by ``manage.py build_reference_artefacts`` for references
ingested before it existed; a check reads it only when a stage asks (a drift run never does).
It holds raw values: retention purges it with its reference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import IntegrityError, transaction

from audit.ledger import record
from monitors.locks import model_lock
from monitors.models import Batch, ReferenceArtefact
from monitors.profiles import engine_array, live_reference_row, reference_and_schema, reference_table
from monitors.schemas import SPLIT_COLUMN
from monitors.storage import artefact_name, open_stored, store_bytes
from registry.models import FeatureSchema, ModelVersion
from vocabulary import ledger_actions

if TYPE_CHECKING:
    from monitors.stats.reference_artefact import ArtefactRoles
    from monitors.stats.reference_artefact import ReferenceArtefact as EngineArtefact


@dataclass(frozen=True)
class StoredArtefact:
    """An artefact as read from storage, with the sha256 of its bytes and its row's id."""

    artefact: EngineArtefact
    sha256: str
    row_id: int


def artefact_roles(schema: FeatureSchema) -> ArtefactRoles:
    from monitors.stats.reference_artefact import ArtefactRoles

    return ArtefactRoles(
        features=tuple(f.name for f in schema.features.order_by("position")),
        target=schema.target_column or None,
        prediction=schema.prediction_column or None,
        scores=tuple(str(s) for s in schema.score_columns or ()),
    )


def artefact_seed(reference_sha256: str) -> int:
    """The sampling seed: from the reference's own sha256, so that it is fixed per reference."""
    return int(reference_sha256[:8], 16)


def reference_artefact_compute(
    batch: Batch, schema: FeatureSchema, *, table: pa.Table | None = None
) -> EngineArtefact:
    """Compute the artefact of a reference batch under today's settings and code (stores nothing).
    ``table``: the reference already read by ``reference_table`` with at least the roles' columns."""
    from monitors.stats.reference_artefact import build_reference_artefact

    roles = artefact_roles(schema)
    if table is None:
        table = reference_table(batch, roles.all)
    available = set(table.column_names)
    roles = type(roles)(
        features=tuple(n for n in roles.features if n in available),
        target=roles.target if roles.target in available else None,
        prediction=roles.prediction if roles.prediction in available else None,
        scores=tuple(n for n in roles.scores if n in available),
    )
    if SPLIT_COLUMN in available:
        holdout = pc.fill_null(pc.equal(table[SPLIT_COLUMN], "holdout"), False).to_numpy(zero_copy_only=False)
    else:
        holdout = np.zeros(table.num_rows, dtype=bool)
    return build_reference_artefact(
        {n: engine_array(table[n]) for n in roles.all},
        roles,
        holdout=np.asarray(holdout, dtype=bool),
        subsample_rows=settings.FLEETWATCH_REFERENCE_SUBSAMPLE_ROWS,
        holdout_cap=settings.FLEETWATCH_REFERENCE_HOLDOUT_CAP,
        seed=artefact_seed(batch.stored_sha256),
    )


def reference_artefact_row(batch: Batch, schema: FeatureSchema) -> ReferenceArtefact | None:
    from monitors.stats.reference_artefact import ARTEFACT_CODE_VERSION

    return live_reference_row(
        ReferenceArtefact, batch=batch, schema=schema, code_version=ARTEFACT_CODE_VERSION
    )


def reference_artefact_build(
    *, batch: Batch, schema: FeatureSchema, table: pa.Table | None = None
) -> tuple[ReferenceArtefact, bool]:
    """The stored artefact of ``batch`` under ``schema`` and today's code: (row, built now)."""
    from monitors.stats.reference_artefact import ARTEFACT_CODE_VERSION

    existing = reference_artefact_row(batch, schema)
    if existing is not None:
        return existing, False
    artefact = reference_artefact_compute(batch, schema, table=table)
    data = artefact.to_bytes()
    sha = hashlib.sha256(data).hexdigest()
    name = artefact_name(model_uid=batch.model.uid, artefact_sha256=sha)
    try:
        with transaction.atomic():
            model_lock(batch.model_id)
            store_bytes(name, data)
            row = ReferenceArtefact.objects.create(
                batch=batch,
                reference_sha256=batch.stored_sha256,
                schema=schema,
                code_version=ARTEFACT_CODE_VERSION,
                settings={
                    "subsample_rows": artefact.subsample_rows,
                    "holdout_cap": artefact.holdout_cap,
                    "seed": artefact.seed,
                },
                storage_name=name,
                artefact_sha256=sha,
                artefact_bytes=len(data),
                holdout_rows=artefact.holdout_rows,
                holdout_sampled=artefact.holdout_sampled,
            )
            record(
                action=ledger_actions.MONITORS_ARTEFACT_BUILT,
                subject=row,
                payload={
                    "model": batch.model.slug,
                    "reference_batch": batch.pk,
                    "reference_sha256": batch.stored_sha256,
                    "schema": schema.pk,
                    "schema_number": schema.number,
                    "code_version": ARTEFACT_CODE_VERSION,
                    "artefact_sha256": sha,
                    "subsample_rows": artefact.subsample.n,
                    "holdout_rows": artefact.holdout_rows,
                    "holdout_kept": artefact.holdout.n,
                    "holdout_sampled": artefact.holdout_sampled,
                },
            )
    except IntegrityError:
        # built at the same moment by another process: the same bytes, already recorded
        row = reference_artefact_row(batch, schema)
        if row is None:
            raise
        return row, False
    return row, True


def reference_artefact_for_version(
    version: ModelVersion, *, table: pa.Table | None = None
) -> ReferenceArtefact:
    """The version's stored artefact under its current schema; built first if there is none."""
    batch, schema = reference_and_schema(version)
    row, _ = reference_artefact_build(batch=batch, schema=schema, table=table)
    return row


def reference_artefact_read(row: ReferenceArtefact, data: bytes | None = None) -> StoredArtefact:
    """The engine's artefact from the stored bytes (or ``data`` already read and verified)."""
    from monitors.stats.reference_artefact import ReferenceArtefact as EngineArtefact

    if data is None:
        with open_stored(row.storage_name) as handle:
            data = handle.read()
    return StoredArtefact(artefact=EngineArtefact.from_bytes(data), sha256=row.artefact_sha256, row_id=row.pk)
