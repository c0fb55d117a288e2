"""Reference profiles: the statistics engine's summary of a reference batch, built once and kept
beside it, keyed by (reference Parquet sha256, schema version, profile code version) so that a
new schema version or a new profile code rebuilds it and nothing else does.

The profile describes the rows a drift check compares against: the reference's train and
validation rows (the holdout is kept apart for stage 0's re-evaluation); a reference with only
holdout rows is profiled whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import IntegrityError, transaction

from audit.ledger import record
from monitors.locks import model_lock
from monitors.models import Batch, BatchKind, ReferenceArtefact, ReferenceProfile
from monitors.schemas import SPLIT_COLUMN, profile_schema
from monitors.storage import open_stored, profile_name, store_bytes
from registry.models import FeatureSchema, ModelVersion
from registry.selectors import schema_current_or_none
from vocabulary import ledger_actions

if TYPE_CHECKING:
    # The engine's profile itself; ``ReferenceProfile`` above is the row that says where it is stored.
    from monitors.stats.profile import ReferenceProfile as EngineProfile


RowT = TypeVar("RowT", ReferenceProfile, ReferenceArtefact)


class ReferenceUnavailable(Exception):
    """The version has no reference batch, or its data was purged under retention."""


def reference_batch(version: ModelVersion) -> Batch:
    batch = Batch.objects.filter(kind=BatchKind.REFERENCE, version=version).order_by("-sequence").first()
    if batch is None:
        raise ReferenceUnavailable(f"version {version} has no reference batch")
    if batch.purged_at is not None:
        raise ReferenceUnavailable(
            f"the reference of {version} was purged under retention "
            f"(ledger entry {batch.purge_ledger_sequence})"
        )
    return batch


def reference_profile_names(schema: FeatureSchema) -> list[str]:
    """The reference columns a profile under ``schema`` is built from."""
    return [f.name for f in profile_schema(schema).features]


def reference_and_schema(version: ModelVersion) -> tuple[Batch, FeatureSchema]:
    """The version's live reference batch and its current feature schema."""
    batch = reference_batch(version)
    schema = schema_current_or_none(version)
    if schema is None:
        raise ReferenceUnavailable(f"version {version} has no feature schema")
    return batch, schema


def live_reference_row(
    model: type[RowT], *, batch: Batch, schema: FeatureSchema, code_version: str
) -> RowT | None:
    """The unpurged row (profile or artefact) built from ``batch`` under ``schema`` and code."""
    return model.objects.filter(
        reference_sha256=batch.stored_sha256,
        schema=schema,
        code_version=code_version,
        purged_at__isnull=True,
    ).first()


def reference_profile_for(version: ModelVersion, *, table: pa.Table | None = None) -> EngineProfile:
    """The stored profile for the version's reference under its current schema and today's
    profile code; built and stored first if there is none (from ``table``, the reference as
    ``reference_table`` read it, when the caller has it already)."""
    from monitors.stats.profile import PROFILE_CODE_VERSION
    from monitors.stats.profile import ReferenceProfile as EngineProfile

    batch, schema = reference_and_schema(version)
    stored = live_reference_row(
        ReferenceProfile, batch=batch, schema=schema, code_version=PROFILE_CODE_VERSION
    )
    if stored is not None:
        with open_stored(stored.storage_name) as handle:
            return EngineProfile.from_bytes(handle.read())
    return _build(batch, schema, table)


def _build(batch: Batch, schema: FeatureSchema, table: pa.Table | None) -> EngineProfile:
    from monitors.stats.profile import PROFILE_CODE_VERSION, build_reference_profile

    spec = profile_schema(schema)
    names = [f.name for f in spec.features]
    columns = profile_columns(reference_table(batch, names) if table is None else table, names)
    profile = build_reference_profile(columns, spec)
    data = profile.to_bytes()
    name = profile_name(
        model_uid=batch.model.uid,
        reference_sha256=batch.stored_sha256,
        schema_id=schema.pk,
        code_version=PROFILE_CODE_VERSION,
    )
    try:
        with transaction.atomic():
            model_lock(batch.model_id)
            store_bytes(name, data)
            row = ReferenceProfile.objects.create(
                batch=batch,
                reference_sha256=batch.stored_sha256,
                schema=schema,
                code_version=PROFILE_CODE_VERSION,
                storage_name=name,
                profile_sha256=hashlib.sha256(data).hexdigest(),
                profile_bytes=len(data),
                holds_raw_values=profile.holds_raw_values,
            )
            record(
                action=ledger_actions.MONITORS_PROFILE_BUILT,
                subject=row,
                payload={
                    "model": batch.model.slug,
                    "reference_batch": batch.pk,
                    "reference_sha256": batch.stored_sha256,
                    "schema": schema.pk,
                    "schema_number": schema.number,
                    "code_version": PROFILE_CODE_VERSION,
                    "profile_sha256": row.profile_sha256,
                    "holds_raw_values": row.holds_raw_values,
                },
            )
    except IntegrityError:
        pass  # built at the same moment by another process: the same bytes, already recorded
    return profile


def reference_table(batch: Batch, names: Iterable[str]) -> pa.Table:
    """Those of ``names`` that the stored reference has, plus its split column if it has one."""
    with open_stored(batch.storage_name) as handle:
        parquet = pq.ParquetFile(handle)
        available = set(parquet.schema_arrow.names)
        wanted = [n for n in dict.fromkeys(names) if n in available]
        return parquet.read(columns=[*wanted, SPLIT_COLUMN] if SPLIT_COLUMN in available else wanted)


def reference_columns(batch: Batch, names: list[str]) -> dict[str, np.ndarray]:
    """The reference's non-holdout rows, as the statistics engine takes them."""
    return profile_columns(reference_table(batch, names), names)


def profile_columns(table: pa.Table, names: list[str]) -> dict[str, np.ndarray]:
    """The non-holdout rows of ``names`` in a table read by ``reference_table``."""
    wanted = [n for n in names if n in table.column_names]
    if SPLIT_COLUMN in table.column_names:
        keep = pc.not_equal(table[SPLIT_COLUMN], "holdout")
        if pc.any(keep).as_py():
            table = table.filter(keep)
    return {n: engine_array(table[n], profile=True) for n in wanted}


def engine_array(column: pa.ChunkedArray | pa.Array, *, profile: bool = False) -> np.ndarray[Any, Any]:
    """Arrow -> the engine's conventions: float64 with NaN for missing, object arrays of str/None,
    datetime64[ns] (UTC) with NaT, booleans as float 0/1 with NaN. Read-only."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    kind = column.type
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        out = pc.fill_null(column.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
        if profile:
            # The profile builder reads infinity as an input error; the quality summary has counted it.
            out = np.where(np.isinf(out), np.nan, out)
    elif pa.types.is_boolean(kind):
        out = pc.fill_null(column.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    elif pa.types.is_timestamp(kind):
        out = column.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
    else:
        out = column.to_numpy(zero_copy_only=False)
        if out.dtype != object:
            out = out.astype(object)
    out = np.array(out, copy=False)
    out.flags.writeable = False
    return out
