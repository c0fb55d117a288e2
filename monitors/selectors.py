"""Reading what was ingested: a model's production window with its labels, as of a point in
the ingest history.

"As of" is a batch sequence of the model (or a time, meaning the last batch received by then):
only batches up to it are read, production and labels alike, and a label corrected later is read
as it stood then. So a check run that records its as-of point and the hashes it read can be
recomputed exactly, whatever arrived afterwards.

Files are streamed row group by row group; row groups whose timestamp statistics fall outside
the window are skipped, and only the columns asked for are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db.models import Max, Q, QuerySet

from monitors.models import Batch, BatchKind, Label
from monitors.profiles import engine_array
from monitors.schemas import LABEL_TIMESTAMP_COLUMN, model_schema, version_column
from monitors.storage import open_stored
from registry.models import ModelVersion, MonitoredModel

TIMESTAMP_TYPE = pa.timestamp("ns", tz="UTC")
LABELLED_AT_COLUMN = "labelled_at"


class WindowInputsPurged(Exception):
    """Batches the window needs were purged under retention; names the ledger entries."""

    def __init__(self, batches: Sequence[Batch]) -> None:
        self.batch_ids = tuple(b.pk for b in batches)
        self.ledger_sequences = tuple(
            sorted({b.purge_ledger_sequence for b in batches if b.purge_ledger_sequence})
        )
        super().__init__(
            f"the inputs of this window were purged under retention (batches {list(self.batch_ids)}, "
            f"ledger entries {list(self.ledger_sequences)})"
        )


@dataclass(frozen=True)
class ProductionWindow:
    """Production rows with ``start <= timestamp < end`` and, if asked, their labels."""

    model_id: int
    start: datetime
    end: datetime
    as_of_sequence: int
    table: pa.Table = field(repr=False)
    batch_sha256s: tuple[str, ...]
    label_batch_sha256s: tuple[str, ...]
    batch_ids: tuple[int, ...]
    label_batch_ids: tuple[int, ...]
    label_column: str | None = None  # the target column, holding each row's label as of the window

    @property
    def row_count(self) -> int:
        return self.table.num_rows

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.table.column_names)

    def array(self, name: str) -> np.ndarray[Any, Any]:
        """One column in the statistics engine's conventions (read-only)."""
        return engine_array(self.table[name])

    def arrays(self, names: Iterable[str] | None = None) -> Mapping[str, np.ndarray[Any, Any]]:
        return MappingProxyType({n: self.array(n) for n in (names or self.table.column_names)})

    @property
    def labelled(self) -> np.ndarray[Any, Any]:
        mask = pc.is_valid(self.table[LABELLED_AT_COLUMN]).to_numpy(zero_copy_only=False)
        mask.flags.writeable = False
        return mask


def as_of_sequence(model: MonitoredModel, as_of: int | datetime | Batch | None) -> int:
    batches = Batch.objects.filter(model=model)
    if isinstance(as_of, Batch):
        return as_of.sequence
    if isinstance(as_of, int):
        return as_of
    if isinstance(as_of, datetime):
        batches = batches.filter(received_at__lte=as_of)
    return batches.aggregate(m=Max("sequence"))["m"] or 0


def production_window(
    *,
    model: MonitoredModel,
    start: datetime,
    end: datetime,
    columns: Sequence[str],
    as_of: int | datetime | Batch | None = None,
    versions: Sequence[ModelVersion | str] | None = None,
    with_labels: bool = True,
) -> ProductionWindow:
    """Rows of ``model`` with ``start <= timestamp < end`` from batches up to ``as_of`` (default:
    everything ingested so far), with ``columns`` plus record id, timestamp, version label and —
    with ``with_labels`` — ``label`` and ``labelled_at`` (null where no label had arrived)."""
    sequence = as_of_sequence(model, as_of)
    schema = model_schema(model)
    record_id = schema.record_id_column if schema else "record_id"
    timestamp = schema.timestamp_column if schema else "timestamp"
    version = version_column()
    wanted = list(dict.fromkeys([record_id, timestamp, version, *columns]))

    batches = list(
        Batch.objects.filter(
            model=model,
            kind=BatchKind.PRODUCTION,
            sequence__lte=sequence,
            min_timestamp__lt=end,
            max_timestamp__gte=start,
        ).order_by("sequence")
    )
    version_labels = [v.label if isinstance(v, ModelVersion) else v for v in versions] if versions else None
    if version_labels:
        # Only batches holding rows of the asked versions: a challenger's schema may name columns
        # the champion's batches never had (``schema_versions`` lists the versions in a batch).
        batches = [b for b in batches if set(b.schema_versions) & set(version_labels)]
    purged = [b for b in batches if b.purged_at is not None]
    if purged:
        raise WindowInputsPurged(purged)

    lo = pa.scalar(start, type=TIMESTAMP_TYPE)
    hi = pa.scalar(end, type=TIMESTAMP_TYPE)
    pieces: list[pa.Table] = []
    for batch in batches:
        pieces.extend(_read_window(batch, wanted, timestamp, lo, hi, version, version_labels))
    table = pa.concat_tables(pieces) if pieces else _empty(batches, wanted)

    label_ids: tuple[int, ...] = ()
    label_shas: tuple[str, ...] = ()
    label_column = None
    if with_labels:
        label_column = schema.target_column if schema and schema.target_column else "label"
        table, label_batches = _attach_labels(
            model, table, record_id, label_column, batches, start, end, sequence
        )
        label_ids = tuple(b.pk for b in label_batches)
        label_shas = tuple(b.stored_sha256 for b in label_batches)
    return ProductionWindow(
        model_id=model.pk,
        start=start,
        end=end,
        as_of_sequence=sequence,
        table=table,
        batch_sha256s=tuple(b.stored_sha256 for b in batches),
        label_batch_sha256s=label_shas,
        batch_ids=tuple(b.pk for b in batches),
        label_batch_ids=label_ids,
        label_column=label_column,
    )


def _read_window(
    batch: Batch,
    wanted: list[str],
    timestamp: str,
    lo: pa.Scalar,
    hi: pa.Scalar,
    version: str,
    version_labels: list[str] | None,
) -> Iterable[pa.Table]:
    with open_stored(batch.storage_name) as handle:
        parquet = pq.ParquetFile(handle, pre_buffer=False)  # bounded: one row group at a time
        names = parquet.schema_arrow.names
        missing = [c for c in wanted if c not in names]
        if missing:
            raise KeyError(f"batch {batch.pk} has no column(s) {missing}")
        groups = _row_groups_in_window(parquet, names.index(timestamp), lo.value, hi.value)
        if not groups:
            return []
        out = []
        for chunk in parquet.iter_batches(row_groups=groups, columns=wanted, batch_size=65_536):
            times = chunk.column(wanted.index(timestamp))
            keep = pc.and_(pc.greater_equal(times, lo), pc.less(times, hi))
            if version_labels is not None:
                keep = pc.and_(
                    keep,
                    pc.is_in(
                        chunk.column(wanted.index(version)),
                        value_set=pa.array(version_labels, type=pa.string()),
                    ),
                )
            selected = chunk.filter(keep)
            if selected.num_rows:
                out.append(pa.Table.from_batches([selected]))
        return out


def _row_groups_in_window(parquet: pq.ParquetFile, column_index: int, lo_ns: int, hi_ns: int) -> list[int]:
    groups = []
    metadata = parquet.metadata
    for i in range(metadata.num_row_groups):
        stats = metadata.row_group(i).column(column_index).statistics
        if stats is not None and stats.has_min_max:
            low, high = int(stats.min_raw), int(stats.max_raw)  # int64 nanoseconds, as stored
            if high < lo_ns or low >= hi_ns:
                continue
        groups.append(i)
    return groups


def _empty(batches: Sequence[Batch], wanted: list[str]) -> pa.Table:
    if batches:
        with open_stored(batches[0].storage_name) as handle:
            schema = pq.ParquetFile(handle).schema_arrow
        return schema.empty_table().select(wanted)
    return pa.table({name: pa.array([], type=pa.string()) for name in wanted})


def _label_rows(
    model: MonitoredModel, production: Sequence[Batch], start: datetime, end: datetime, sequence: int
) -> QuerySet[Label]:
    return Label.objects.filter(
        model=model,
        sequence__lte=sequence,
        record_batch__in=production,
        record_timestamp__gte=start,
        record_timestamp__lt=end,
    ).filter(Q(superseded_at_sequence__isnull=True) | Q(superseded_at_sequence__gt=sequence))


def _attach_labels(
    model: MonitoredModel,
    table: pa.Table,
    record_id: str,
    target: str,
    production: Sequence[Batch],
    start: datetime,
    end: datetime,
    sequence: int,
) -> tuple[pa.Table, list[Batch]]:
    rows = list(
        _label_rows(model, production, start, end, sequence).values_list("record_id", "batch_id", "row_index")
    )
    label_batches = list(Batch.objects.filter(pk__in={b for _, b, _ in rows}).order_by("sequence"))
    purged = [b for b in label_batches if b.purged_at is not None]
    if purged:
        raise WindowInputsPurged(purged)
    value_type: pa.DataType = pa.float64()
    ids: list[pa.Array] = []
    values: list[pa.Array] = []
    times: list[pa.Array] = []
    by_batch: dict[int, list[tuple[str, int]]] = {}
    for rid, batch_id, row_index in rows:
        by_batch.setdefault(batch_id, []).append((rid, row_index))
    for batch in label_batches:
        entries = by_batch[batch.pk]
        with open_stored(batch.storage_name) as handle:
            stored = pq.ParquetFile(handle).read(columns=[target, LABEL_TIMESTAMP_COLUMN])
        indices = pa.array([i for _, i in entries], type=pa.int64())
        ids.append(pa.array([r for r, _ in entries], type=pa.string()))
        column = stored[target].take(indices).combine_chunks()
        value_type = column.type
        values.append(column)
        times.append(stored[LABEL_TIMESTAMP_COLUMN].take(indices).combine_chunks())
    window_ids = table[record_id].combine_chunks()
    if ids:
        position = pc.index_in(window_ids, value_set=pa.concat_arrays(ids))
        label = (
            pa.concat_arrays([v.cast(value_type) for v in values]).take(position)
            if values
            else pa.nulls(table.num_rows, value_type)
        )
        labelled_at = pa.concat_arrays(times).take(position)
    else:
        label = pa.nulls(table.num_rows, value_type)
        labelled_at = pa.nulls(table.num_rows, TIMESTAMP_TYPE)
    table = table.append_column(target, label).append_column(LABELLED_AT_COLUMN, labelled_at)
    return table, label_batches
