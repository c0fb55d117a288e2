"""Batches that go in: every format, idempotent re-posts, both hashes, and value-level problems
counted rather than refused."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitors.models import Batch, RecordId
from monitors.storage import data_storage
from tests.monitors.dataplane import (
    SENDER,
    data_rows,
    ingest,
    last_entry,
    production_table,
    stored_files,
    write,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json", "jsonl"])
def test_a_production_batch_is_accepted_in_every_format(world, tmp_path, fmt):
    path = write(production_table(50), tmp_path / "batch", fmt)

    result = ingest(world, path)

    batch = result.batch
    assert result.created
    assert (batch.kind, batch.row_count, batch.source_format) == (
        "production",
        50,
        "jsonl" and ("json" if fmt == "jsonl" else fmt),
    )
    assert batch.min_timestamp == datetime(2025, 3, 1, tzinfo=UTC)
    assert batch.max_timestamp == datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=49)
    assert RecordId.objects.filter(batch=batch).count() == 50
    assert batch.schema_versions == {"v2": 1}
    stored = pq.read_table(data_storage().path(batch.storage_name))
    assert stored.schema.field("timestamp").type == pa.timestamp("ns", tz="UTC")
    assert stored.schema.field("income").type == pa.float64()
    assert stored.schema.field("has_mortgage").type == pa.bool_()
    assert stored["record_id"].to_pylist()[:2] == ["r0", "r1"]


def test_both_hashes_are_kept_the_posted_bytes_and_the_stored_parquet(world, tmp_path, storage_dir):
    path = write(production_table(20), tmp_path / "batch", "csv")

    batch = ingest(world, path).batch

    assert batch.posted_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    stored_path = storage_dir / batch.storage_name
    assert batch.stored_sha256 == hashlib.sha256(stored_path.read_bytes()).hexdigest()
    assert batch.storage_name.endswith(f"{batch.stored_sha256}.parquet")
    assert batch.posted_bytes == path.stat().st_size and batch.stored_bytes == stored_path.stat().st_size


def test_posting_the_same_bytes_again_returns_the_existing_batch(world, tmp_path, storage_dir):
    path = write(production_table(20), tmp_path / "batch")
    first = ingest(world, path)

    again = ingest(world, path)

    assert not again.created and again.batch.pk == first.batch.pk
    assert data_rows(world.model)["batches"] == 1
    assert len(stored_files(storage_dir)) == 1
    assert last_entry("monitors.batch.reposted").payload["batch"] == first.batch.pk


def test_a_stream_is_spooled_and_ingested_like_a_file(world, tmp_path):
    path = write(production_table(20), tmp_path / "batch", "parquet")

    with path.open("rb") as stream:
        batch = ingest(world, stream, content_type="application/vnd.apache.parquet").batch

    assert batch.row_count == 20 and batch.posted_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_accepted_batch_is_in_the_ledger_with_hashes_counts_and_sender(world, tmp_path):
    batch = ingest(world, write(production_table(20), tmp_path / "batch")).batch

    entry = last_entry("monitors.batch.accepted")

    assert (entry.subject_type, entry.subject_id) == ("monitors.batch", str(batch.pk))
    assert (entry.actor_kind, entry.actor_name) == (SENDER.kind, SENDER.name)
    payload = entry.payload
    assert payload["posted_sha256"] == batch.posted_sha256 and payload["stored_sha256"] == batch.stored_sha256
    assert payload["row_count"] == 20 and payload["kind"] == "production"
    assert "employer 3" not in json.dumps(payload)  # no data value


def test_out_of_range_values_unseen_categories_and_nulls_are_accepted_and_counted_per_column(world, tmp_path):
    table = production_table(10)
    income = [
        -5.0,
        -1.0,
        None,
        math.nan,
        math.inf,
        10.0,
        20.0,
        30.0,
        40.0,
        50.0,
    ]  # 2 below min, 1 null, NaN, inf
    age = [
        17.0,
        101.0,
        150.0,
        None,
        None,
        30.0,
        40.0,
        50.0,
        60.0,
        70.0,
    ]  # 3 out of range, 2 nulls (not nullable)
    channel = [
        "branch",
        "carrier-pigeon",
        "telex",
        "telex",
        None,
        "online",
        "phone",
        "branch",
        "online",
        "phone",
    ]
    opened = [datetime(1970, 1, 1, tzinfo=UTC)] * 10
    table = table.set_column(table.column_names.index("income"), "income", pa.array(income))
    table = table.set_column(table.column_names.index("age"), "age", pa.array(age))
    table = table.set_column(table.column_names.index("channel"), "channel", pa.array(channel))
    table = table.set_column(
        table.column_names.index("opened_at"),
        "opened_at",
        pa.array(opened, type=pa.timestamp("us", tz="UTC")),
    )
    table = table.set_column(
        table.column_names.index("employer"), "employer", pa.array([None] * 10, pa.string())
    )

    batch = ingest(world, write(table, tmp_path / "odd")).batch

    columns = batch.quality_summary["columns"]
    assert batch.quality_summary["rows"] == 10
    assert columns["income"] == {"nulls": 1, "nulls_not_allowed": 0, "nan": 1, "inf": 1, "out_of_range": 2}
    assert columns["age"] == {"nulls": 2, "nulls_not_allowed": 2, "nan": 0, "inf": 0, "out_of_range": 3}
    assert columns["channel"] == {"nulls": 1, "nulls_not_allowed": 0, "unseen_categories": 3}
    assert columns["employer"] == {"nulls": 10, "nulls_not_allowed": 0}
    assert columns["score"]["nulls"] == 0
    assert last_entry("monitors.batch.accepted").payload["quality"]["columns"]["age"]["out_of_range"] == 3


def test_csv_values_are_typed_as_the_schema_declares(world, tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text(
        "record_id,timestamp,model_version,income,age,channel,has_mortgage,opened_at,employer,prediction,score\n"
        "a1,2025-03-01T10:00:00Z,v2,1200.5,30,online,yes,2020-01-01,Acme,1,0.7\n"
        "a2,2025-03-01 12:00:00,v2,NaN,41,branch,0,2020-01-02T00:00:00+02:00,,0,0.2\n"
        "a3,2025-03-01T13:00:00+01:00,v2,,52,phone,FALSE,,Initech,1,inf\n"
    )

    batch = ingest(world, path).batch

    stored = pq.read_table(data_storage().path(batch.storage_name))
    assert stored["has_mortgage"].to_pylist() == [True, False, False]
    assert [t.isoformat() for t in stored["timestamp"].to_pylist()] == [
        "2025-03-01T10:00:00+00:00",
        "2025-03-01T12:00:00+00:00",
        "2025-03-01T12:00:00+00:00",
    ]
    assert stored["opened_at"].to_pylist()[1].isoformat() == "2020-01-01T22:00:00+00:00"
    income = stored["income"].to_numpy(zero_copy_only=False)
    assert income[0] == 1200.5 and np.isnan(income[1]) and stored["income"].null_count == 1
    assert batch.quality_summary["columns"]["score"]["inf"] == 1


def test_a_challenger_and_the_champion_may_share_a_batch(world, tmp_path):
    after_v3 = datetime(2025, 7, 1, tzinfo=UTC)
    table = pa.concat_tables(
        [
            production_table(5, start=after_v3, version="v2"),
            production_table(5, first_id=5, start=after_v3, version="v3"),
        ]
    )

    batch = ingest(world, write(table, tmp_path / "both")).batch

    assert batch.schema_versions == {"v2": 1, "v3": 1} and not batch.flagged


def test_stored_batches_are_immutable_and_never_overwritten(world, tmp_path, storage_dir):
    batch = ingest(world, write(production_table(5), tmp_path / "b")).batch
    stored = storage_dir / batch.storage_name
    before = stored.stat().st_ino

    from monitors.storage import store_file

    other = tmp_path / "other"
    other.write_bytes(b"not the same bytes")
    assert store_file(batch.storage_name, other) is False
    assert stored.stat().st_ino == before
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == batch.stored_sha256
    assert Batch.objects.count() == 1
