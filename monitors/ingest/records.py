"""Loading a batch's record ids and labels into the database, in the caller's transaction.

On PostgreSQL rows go in with COPY (Arrow writes the CSV, so no Python loop per row); elsewhere
with ``bulk_create``. The unique constraint on (model, record id) is what stops two uploads of
the same record — including two at the same moment — and a violation becomes the
duplicate-record-id refusal, naming the rows, never an IntegrityError.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import IntegrityError, connection, transaction

from monitors.ingest.errors import MAX_ROWS_REPORTED, IngestRefusal, Rule, rows_phrase
from monitors.models import Batch, Label, RecordId

COPY_ROWS = 100_000
BULK_ROWS = 2_000
_US = pa.timestamp("us", tz="UTC")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _csv_slices(table: pa.Table) -> Iterator[bytes]:
    for offset in range(0, table.num_rows, COPY_ROWS):
        buffer = io.BytesIO()
        pacsv.write_csv(
            table.slice(offset, COPY_ROWS), buffer, write_options=pacsv.WriteOptions(include_header=False)
        )
        yield buffer.getvalue()


def _copy(table_name: str, table: pa.Table) -> None:
    columns = ", ".join(connection.ops.quote_name(c) for c in table.column_names)
    # wrap_database_errors turns psycopg's UniqueViolation into Django's IntegrityError.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table_name} ({columns}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for block in _csv_slices(table):
            copy.write(block)


def _constant(value: int, n: int) -> pa.Array:
    return pa.array(np.full(n, value, dtype=np.int64))


def _microseconds(times: pa.Array) -> pa.Array:
    # The database keeps microseconds; truncating (never rounding up) keeps a record inside any
    # window whose bounds are whole microseconds.
    return times.cast(_US, safe=False)


def record_ids_load(batch: Batch, record_ids: pa.Array, timestamps: pa.Array) -> None:
    """Insert the batch's record ids, or refuse the batch if any was seen before."""
    n = len(record_ids)
    times = _microseconds(timestamps)
    try:
        with transaction.atomic():
            if _postgres():
                _copy(
                    RecordId._meta.db_table,
                    pa.table(
                        {
                            "model_id": _constant(batch.model_id, n),
                            "record_id": record_ids,
                            "batch_id": _constant(batch.pk, n),
                            "timestamp": times,
                        }
                    ),
                )
            else:
                for offset in range(0, n, BULK_ROWS):
                    ids = record_ids.slice(offset, BULK_ROWS).to_pylist()
                    stamps = times.slice(offset, BULK_ROWS).to_pylist()
                    RecordId.objects.bulk_create(
                        RecordId(model_id=batch.model_id, record_id=r, batch=batch, timestamp=t)
                        for r, t in zip(ids, stamps, strict=True)
                    )
    except IntegrityError:
        raise _duplicates_refusal(batch, record_ids) from None


def _duplicates_refusal(batch: Batch, record_ids: pa.Array) -> IngestRefusal:
    rows, count = _rows_seen_before(batch.model_id, record_ids)
    column = _record_id_column(batch)
    if not rows:  # a race that the retry of the lookup no longer sees: still a duplicate
        return IngestRefusal(
            Rule.DUPLICATE_RECORD_ID,
            f"column `{column}`: record ids of this batch were stored by another batch at the same moment",
            column=column,
        )
    return IngestRefusal(
        Rule.DUPLICATE_RECORD_ID,
        f"column `{column}`: {count} record ids were already ingested in earlier "
        f"batches of this model, e.g. {record_ids[rows[0] - 1].as_py()!r}; {rows_phrase(rows, count)}",
        column=column,
        rows=rows,
        count=count,
    )


def _record_id_column(batch: Batch) -> str:
    return batch.schema.record_id_column if batch.schema_id else "record_id"


def _rows_seen_before(model_id: int, record_ids: pa.Array) -> tuple[list[int], int]:
    """1-based rows of the batch whose record id the model already has."""
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE monitors_ingest_ids (record_id text, row_number bigint) ON COMMIT DROP"
            )
            n = len(record_ids)
            _copy(
                "monitors_ingest_ids",
                pa.table(
                    {
                        "record_id": record_ids,
                        "row_number": pa.array(np.arange(1, n + 1, dtype=np.int64)),
                    }
                ),
            )
            cursor.execute(
                f"SELECT t.row_number FROM monitors_ingest_ids t JOIN {RecordId._meta.db_table} r "  # noqa: S608 - a table name
                "ON r.model_id = %s AND r.record_id = t.record_id ORDER BY t.row_number",
                [model_id],
            )
            found = [row[0] for row in cursor.fetchall()]
            cursor.execute("DROP TABLE monitors_ingest_ids")
        return found[:MAX_ROWS_REPORTED], len(found)
    found_rows: list[int] = []
    for offset in range(0, len(record_ids), BULK_ROWS):
        chunk = record_ids.slice(offset, BULK_ROWS)
        existing = set(
            RecordId.objects.filter(model_id=model_id, record_id__in=chunk.to_pylist()).values_list(
                "record_id", flat=True
            )
        )
        if existing:
            mask = pc.is_in(chunk, value_set=pa.array(sorted(existing), type=pa.string()))
            found_rows.extend(offset + i + 1 for i in pc.indices_nonzero(mask).to_pylist())
    return found_rows[:MAX_ROWS_REPORTED], len(found_rows)


def labels_load(
    batch: Batch, record_ids: pa.Array, labelled_at: pa.Array, *, now: datetime, park_hours: int
) -> dict[str, int]:
    """Insert the batch's labels, joined to their records where these have arrived and parked
    otherwise, and mark earlier labels of the same records as superseded from this batch on."""
    n = len(record_ids)
    parked_until = now + timedelta(hours=park_hours)
    times = _microseconds(labelled_at)
    label, record = Label._meta.db_table, RecordId._meta.db_table
    if _postgres():
        joined = _labels_copy_joined(batch, record_ids, times, parked_until)
    else:
        for offset in range(0, n, BULK_ROWS):
            ids = record_ids.slice(offset, BULK_ROWS).to_pylist()
            stamps = times.slice(offset, BULK_ROWS).to_pylist()
            Label.objects.bulk_create(
                Label(
                    model_id=batch.model_id,
                    batch=batch,
                    sequence=batch.sequence,
                    record_id=r,
                    row_index=offset + i,
                    labelled_at=t,
                    parked_until=parked_until,
                )
                for i, (r, t) in enumerate(zip(ids, stamps, strict=True))
            )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {label} SET record_batch_id = r.batch_id, record_timestamp = r.timestamp, "  # noqa: S608
                f"parked_until = NULL FROM {record} r WHERE {label}.batch_id = %s "
                f"AND r.model_id = {label}.model_id AND r.record_id = {label}.record_id",
                [batch.pk],
            )
            joined = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {label} SET superseded_at_sequence = %s FROM {label} AS later "  # noqa: S608
            f"WHERE later.batch_id = %s AND {label}.model_id = later.model_id "
            f"AND {label}.record_id = later.record_id AND {label}.batch_id <> %s "
            f"AND {label}.superseded_at_sequence IS NULL",
            [batch.sequence, batch.pk, batch.pk],
        )
        corrections = cursor.rowcount
    return {"labels": n, "joined": joined, "parked": n - joined, "corrections": corrections}


def _labels_copy_joined(batch: Batch, record_ids: pa.Array, times: pa.Array, parked_until: datetime) -> int:
    """COPY into a staging table, then one INSERT ... SELECT that joins each label to its record:
    every label row is written once, already joined or parked."""
    label, record = Label._meta.db_table, RecordId._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE monitors_label_stage "
            "(record_id text, row_index bigint, labelled_at timestamptz) ON COMMIT DROP"
        )
        _copy(
            "monitors_label_stage",
            pa.table(
                {
                    "record_id": record_ids,
                    "row_index": pa.array(np.arange(len(record_ids), dtype=np.int64)),
                    "labelled_at": times,
                }
            ),
        )
        cursor.execute("ANALYZE monitors_label_stage")
        cursor.execute(
            f"WITH inserted AS (INSERT INTO {label} (model_id, batch_id, sequence, record_id, row_index, "  # noqa: S608
            "labelled_at, record_batch_id, record_timestamp, parked_until) "
            "SELECT %s, %s, %s, s.record_id, s.row_index, s.labelled_at, r.batch_id, r.timestamp, "
            "CASE WHEN r.id IS NULL THEN %s::timestamptz END "
            f"FROM monitors_label_stage s LEFT JOIN {record} r "
            "ON r.model_id = %s AND r.record_id = s.record_id "
            "RETURNING record_batch_id) SELECT count(record_batch_id) FROM inserted",
            [batch.model_id, batch.pk, batch.sequence, parked_until, batch.model_id],
        )
        joined = int(cursor.fetchone()[0])
        cursor.execute("DROP TABLE monitors_label_stage")
    return joined


def parked_labels_join(batch: Batch, *, now: datetime) -> int:
    """Join labels that were waiting for the records this production batch brought."""
    waiting = Label.objects.filter(
        model_id=batch.model_id, record_batch__isnull=True, parked_until__gt=now, orphaned_at__isnull=True
    )
    if not waiting.exists():  # the usual case: labels come after their records
        return 0
    label, record = Label._meta.db_table, RecordId._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {label} SET record_batch_id = r.batch_id, record_timestamp = r.timestamp, "  # noqa: S608
            f"parked_until = NULL FROM {record} r "
            f"WHERE r.batch_id = %s AND {label}.model_id = r.model_id "
            f"AND {label}.record_id = r.record_id AND {label}.record_batch_id IS NULL "
            f"AND {label}.parked_until > %s AND {label}.orphaned_at IS NULL",
            [batch.pk, now],
        )
        return cursor.rowcount
