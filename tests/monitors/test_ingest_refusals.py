"""Structurally bad batches are refused whole: one test per rule. Each checks that the error
names the column and the rule, that the ledger has the refusal without any data value, and that
no file, batch, record id, label or profile was left behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from django.utils import timezone

from monitors.ingest import IngestRefusal, Rule
from monitors.models import IngestLimits, InventoryException
from tests.monitors.dataplane import (
    V3_DEPLOYED,
    data_rows,
    ingest,
    last_entry,
    production_table,
    reference_table,
    stored_files,
    write,
)

pytestmark = pytest.mark.django_db


def refused(world, source, *, kind="production", **kwargs) -> IngestRefusal:
    with pytest.raises(IngestRefusal) as caught:
        ingest(world, source, kind=kind, **kwargs)
    return caught.value


def assert_refused_cleanly(world, storage_dir, refusal, *, rule, column, rows=None, value=None, before=None):
    assert refusal.rule == rule
    assert refusal.column == column
    if column:
        assert f"`{column}`" in refusal.message
    assert refusal.message.startswith(f"{rule}: ")
    if rows is not None:
        assert list(refusal.rows) == rows
    assert stored_files(storage_dir) == []
    assert data_rows(world.model) == (before or {"batches": 0, "record_ids": 0, "labels": 0, "profiles": 0})
    entry = last_entry("monitors.batch.refused")
    assert entry.payload["rule"] == rule and entry.payload["column"] == column
    assert entry.payload["rows"] == list(refusal.rows)
    # an over-size upload is not read to its end, so only it has no posted hash
    assert bool(entry.payload["posted_sha256"]) == (rule != Rule.MAX_BYTES)
    assert entry.payload["stored_sha256"] is None
    assert "message" not in entry.payload
    if value is not None:
        assert value in refusal.message  # the uploader is told what was wrong...
        assert value not in json.dumps(entry.payload)  # ...the ledger never holds it


def test_a_missing_column_is_refused_naming_the_column(world, tmp_path, storage_dir):
    path = write(production_table(10).drop_columns(["age"]), tmp_path / "b")

    refusal = refused(world, path)

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.MISSING_COLUMN, column="age")
    assert "missing" in refusal.message


def test_an_unknown_column_is_refused_naming_the_column(world, tmp_path, storage_dir):
    table = production_table(10).append_column("shoe_size", pa.array([42.0] * 10))

    refusal = refused(world, write(table, tmp_path / "b"))

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.UNKNOWN_COLUMN, column="shoe_size")
    assert "not in the model's schema" in refusal.message


def test_a_column_named_twice_is_refused(world, tmp_path, storage_dir):
    path = tmp_path / "twice.csv"
    path.write_text("record_id,timestamp,age,age\nr1,2025-03-01T00:00:00Z,30,31\n")

    refusal = refused(world, path)

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.DUPLICATE_COLUMN, column="age")


def test_a_value_that_is_not_of_the_declared_type_is_refused_with_its_rows(world, tmp_path, storage_dir):
    table = production_table(30)
    income = table["income"].to_pylist()
    income = [str(v) for v in income]
    income[16] = "n/a"
    income[22] = "twelve"
    table = table.set_column(table.column_names.index("income"), "income", pa.array(income))

    refusal = refused(world, write(table, tmp_path / "b", "csv"))

    assert_refused_cleanly(
        world,
        storage_dir,
        refusal,
        rule=Rule.UNPARSEABLE_VALUE,
        column="income",
        rows=[17, 23],
        value="'n/a'",
    )
    assert refusal.count == 2 and "not a number" in refusal.message and "row 17" in refusal.message


def test_a_boolean_column_with_a_word_that_is_not_a_boolean_is_refused(world, tmp_path, storage_dir):
    table = production_table(5)
    table = table.set_column(
        table.column_names.index("has_mortgage"),
        "has_mortgage",
        pa.array(["yes", "no", "maybe", "true", "0"]),
    )

    refusal = refused(world, write(table, tmp_path / "b", "jsonl"))

    assert_refused_cleanly(
        world,
        storage_dir,
        refusal,
        rule=Rule.UNPARSEABLE_VALUE,
        column="has_mortgage",
        rows=[3],
        value="'maybe'",
    )


def test_a_row_without_a_record_id_is_refused(world, tmp_path, storage_dir):
    table = production_table(6)
    table = table.set_column(0, "record_id", pa.array(["r0", "r1", None, "r3", "", "r5"]))

    refusal = refused(world, write(table, tmp_path / "b"))

    assert_refused_cleanly(
        world, storage_dir, refusal, rule=Rule.MISSING_RECORD_ID, column="record_id", rows=[3, 5]
    )


def test_a_record_id_twice_in_one_batch_is_refused_naming_both_rows(world, tmp_path, storage_dir):
    table = production_table(8)
    ids = table["record_id"].to_pylist()
    ids[6] = ids[2]
    table = table.set_column(0, "record_id", pa.array(ids))

    refusal = refused(world, write(table, tmp_path / "b"))

    assert_refused_cleanly(
        world,
        storage_dir,
        refusal,
        rule=Rule.DUPLICATE_RECORD_ID,
        column="record_id",
        rows=[3, 7],
        value="'r2'",
    )


def test_a_record_id_seen_in_an_earlier_batch_is_refused(world, tmp_path, storage_dir):
    first = ingest(world, write(production_table(10), tmp_path / "first")).batch
    before = data_rows(world.model)
    files_before = stored_files(storage_dir)
    overlapping = production_table(10, first_id=7, start=datetime(2025, 4, 1, tzinfo=UTC))

    refusal = refused(world, write(overlapping, tmp_path / "second"))

    assert refusal.rule == Rule.DUPLICATE_RECORD_ID and refusal.column == "record_id"
    assert list(refusal.rows) == [1, 2, 3] and refusal.count == 3
    assert "earlier batches" in refusal.message
    assert data_rows(world.model) == before and stored_files(storage_dir) == files_before
    assert first.record_ids.count() == 10
    entry = last_entry("monitors.batch.refused")
    assert entry.payload["rule"] == Rule.DUPLICATE_RECORD_ID and entry.payload["rows"] == [1, 2, 3]


def test_an_unparseable_timestamp_is_refused(world, tmp_path, storage_dir):
    table = production_table(4)
    table = table.set_column(
        1,
        "timestamp",
        pa.array(["2025-03-01T00:00:00Z", "2025-02-30T00:00:00Z", "yesterday", "2025-03-01T00:01:00Z"]),
    )

    refusal = refused(world, write(table, tmp_path / "b", "csv"))

    assert_refused_cleanly(
        world,
        storage_dir,
        refusal,
        rule=Rule.UNPARSEABLE_TIMESTAMP,
        column="timestamp",
        rows=[2, 3],
        value="'2025-02-30T00:00:00Z'",
    )


def test_a_missing_timestamp_is_refused(world, tmp_path, storage_dir):
    table = production_table(3)
    table = table.set_column(
        1, "timestamp", pa.array([datetime(2025, 3, 1, tzinfo=UTC), None, datetime(2025, 3, 1, tzinfo=UTC)])
    )

    refusal = refused(world, write(table, tmp_path / "b"))

    assert_refused_cleanly(
        world, storage_dir, refusal, rule=Rule.MISSING_TIMESTAMP, column="timestamp", rows=[2]
    )


def test_a_timestamp_in_the_future_is_refused(world, tmp_path, storage_dir):
    tomorrow = timezone.now() + timedelta(days=1)
    table = production_table(5, start=tomorrow - timedelta(minutes=2))

    refusal = refused(world, write(table, tmp_path / "b"))

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.FUTURE_TIMESTAMP, column="timestamp")
    assert refusal.rows[0] == 1 and "in the future" in refusal.message


def test_an_empty_batch_is_refused(world, tmp_path, storage_dir):
    refusal = refused(world, write(production_table(0), tmp_path / "b"))

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.EMPTY_BATCH, column=None)
    assert "empty" in refusal.message


def test_a_csv_with_only_a_header_is_an_empty_batch(world, tmp_path, storage_dir):
    refusal = refused(world, write(production_table(0), tmp_path / "b", "csv"))

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.EMPTY_BATCH, column=None)


def test_a_version_label_the_model_never_had_is_refused(world, tmp_path, storage_dir):
    table = production_table(4, version="v9")

    refusal = refused(world, write(table, tmp_path / "b"))

    assert_refused_cleanly(
        world, storage_dir, refusal, rule=Rule.UNKNOWN_VERSION, column="model_version", rows=[1, 2, 3, 4]
    )
    listed = InventoryException.objects.get()
    assert (listed.kind, listed.outcome, listed.version_label, listed.row_count) == (
        "unknown_version",
        "refused",
        "v9",
        4,
    )


def test_a_challenger_row_from_before_its_deployment_is_refused(world, tmp_path, storage_dir):
    table = production_table(3, start=V3_DEPLOYED - timedelta(minutes=2), version="v3")

    refusal = refused(world, write(table, tmp_path / "b"))

    # rows 1 and 2 were scored before v3 was deployed; row 3 at the moment it was
    assert_refused_cleanly(
        world, storage_dir, refusal, rule=Rule.UNKNOWN_VERSION, column="model_version", rows=[1, 2]
    )
    assert refusal.count == 2


def test_a_retired_version_is_accepted_only_for_rows_from_when_it_served(world, tmp_path, storage_dir):
    served = production_table(2, start=datetime(2024, 6, 1, tzinfo=UTC), version="v1")
    assert ingest(world, write(served, tmp_path / "old")).batch.row_count == 2
    before = data_rows(world.model)
    files = stored_files(storage_dir)

    late = production_table(2, first_id=10, start=datetime(2025, 2, 1, tzinfo=UTC), version="v1")
    refusal = refused(world, write(late, tmp_path / "late"))

    assert refusal.rule == Rule.UNKNOWN_VERSION and list(refusal.rows) == [1, 2]
    assert data_rows(world.model) == before and stored_files(storage_dir) == files


def test_a_batch_over_the_models_row_limit_is_refused(world, tmp_path, storage_dir):
    IngestLimits.objects.create(model=world.model, max_rows=100)

    refusal = refused(world, write(production_table(101), tmp_path / "b"))

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.MAX_ROWS, column=None, rows=[101])
    assert "100 rows" in refusal.message


def test_a_batch_over_the_byte_limit_is_refused_before_it_is_read(world, tmp_path, storage_dir, settings):
    path = write(production_table(50), tmp_path / "b", "csv")
    settings.FLEETWATCH_INGEST_MAX_BYTES = path.stat().st_size - 1

    with path.open("rb") as stream:
        refusal = refused(world, stream, content_type="text/csv")

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.MAX_BYTES, column=None)
    assert str(path.stat().st_size - 1) in refusal.message


def test_data_for_an_unregistered_model_is_refused_and_listed(world, tmp_path, storage_dir):
    refusal = refused(world, write(production_table(3), tmp_path / "b"), model="no-such-model")

    assert refusal.rule == Rule.UNREGISTERED_MODEL and "no-such-model" in refusal.message
    assert stored_files(storage_dir) == []
    listed = InventoryException.objects.get()
    assert (listed.kind, listed.outcome, listed.model_slug, listed.model) == (
        "unregistered_model",
        "refused",
        "no-such-model",
        None,
    )
    entry = last_entry("monitors.batch.refused")
    assert (entry.subject_type, entry.subject_id) == ("registry.monitoredmodel", "no-such-model")


def test_a_file_that_is_not_what_it_claims_is_refused_as_unreadable(world, tmp_path, storage_dir):
    path = tmp_path / "b.parquet"
    path.write_bytes(b"PAR1 this is not parquet at all")

    refusal = refused(world, path)

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.UNREADABLE_FILE, column=None)


def test_a_ragged_csv_is_refused_naming_the_row(world, tmp_path, storage_dir):
    path = write(production_table(3), tmp_path / "ragged", "csv")
    lines = path.read_text().splitlines()
    lines[2] += ',"one too many"'
    path.write_text("\n".join(lines) + "\n")

    refusal = refused(world, path)

    assert_refused_cleanly(world, storage_dir, refusal, rule=Rule.UNREADABLE_FILE, column=None, rows=[2])


def test_a_second_reference_for_the_same_version_is_refused(world, tmp_path, storage_dir):
    ingest(world, write(reference_table(300), tmp_path / "ref"), kind="reference", version="v2")
    before = data_rows(world.model)
    files = stored_files(storage_dir)

    refusal = refused(
        world, write(reference_table(300, seed=9), tmp_path / "ref2"), kind="reference", version="v2"
    )

    assert refusal.rule == Rule.REFERENCE_EXISTS
    assert data_rows(world.model) == before and stored_files(storage_dir) == files


def test_a_reference_with_a_split_value_that_is_not_train_validation_or_holdout_is_refused(
    world, tmp_path, storage_dir
):
    table = reference_table(10)
    split = table["split"].to_pylist()
    split[4] = "test"
    table = table.set_column(table.column_names.index("split"), "split", pa.array(split))

    refusal = refused(world, write(table, tmp_path / "ref"), kind="reference", version="v2")

    assert_refused_cleanly(
        world, storage_dir, refusal, rule=Rule.UNPARSEABLE_VALUE, column="split", rows=[5], value="'test'"
    )
