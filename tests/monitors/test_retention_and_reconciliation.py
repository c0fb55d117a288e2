"""Retention purges raw data after a model's period, never under legal hold, keeping hashes and
aggregates; reconciliation lists data that does not match the inventory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from django.core.management import call_command

from audit.ledger.models import LedgerEntry
from monitors.models import Batch, InventoryException, Label, RecordId, ReferenceProfile
from monitors.retention import retention_purge
from tests.monitors.dataplane import (
    START,
    amend,
    ingest,
    labels_table,
    last_entry,
    production_table,
    reference_table,
    stored_files,
    write,
)

pytestmark = pytest.mark.django_db


def _data(world, tmp_path):
    production = ingest(world, write(production_table(10), tmp_path / "p")).batch
    labels = ingest(world, write(labels_table(["r1", "r2"], [1.0, 0.0]), tmp_path / "l"), kind="labels").batch
    return production, labels


def test_batches_older_than_the_retention_period_are_purged_keeping_their_hashes(
    world, tmp_path, storage_dir
):
    production, labels = _data(world, tmp_path)
    amend(world, retention_days=30)
    now = labels.received_at + timedelta(days=31)

    (report,) = retention_purge(now=now)

    assert set(report.batch_ids) == {production.pk, labels.pk}
    assert stored_files(storage_dir) == []
    assert RecordId.objects.count() == 0 and Label.objects.count() == 0
    for batch in Batch.objects.all():
        assert batch.purged_at == now and batch.purge_ledger_sequence == report.ledger_sequence
        assert len(batch.stored_sha256) == 64 and batch.row_count and batch.quality_summary
    entry = last_entry("monitors.retention.purged")
    assert entry.sequence == report.ledger_sequence
    assert {b["stored_sha256"] for b in entry.payload["batches"]} == {
        production.stored_sha256,
        labels.stored_sha256,
    }


def test_nothing_is_purged_within_the_retention_period(world, tmp_path, storage_dir):
    _, labels = _data(world, tmp_path)
    amend(world, retention_days=2000)  # the production rows are from 2025-03-01
    files = stored_files(storage_dir)

    assert retention_purge(now=labels.received_at + timedelta(days=10)) == []

    assert not Batch.objects.filter(purged_at__isnull=False).exists()
    assert stored_files(storage_dir) == files


def test_a_model_under_legal_hold_is_never_purged(world, tmp_path, storage_dir):
    _data(world, tmp_path)
    amend(world, legal_hold=True, retention_days=1)
    files = stored_files(storage_dir)

    (report,) = retention_purge(now=datetime(2035, 1, 1, tzinfo=UTC))

    assert report.held and report.batch_ids == ()
    assert stored_files(storage_dir) == files
    assert not Batch.objects.filter(purged_at__isnull=False).exists()
    assert not LedgerEntry.objects.filter(action="monitors.retention.purged").exists()


def test_a_reference_and_its_raw_value_profile_go_only_once_the_version_is_retired_long_enough(
    world, tmp_path, storage_dir
):
    reference = ingest(
        world, write(reference_table(400), tmp_path / "ref"), kind="reference", version="v2"
    ).batch
    amend(world, retention_days=30)
    later = reference.received_at + timedelta(days=365)

    assert retention_purge(now=later) == []  # v2 still serves: its reference stays

    retired_at = reference.received_at + timedelta(days=100)
    amend(world, versions={"v2": {"status": "retired", "role": "", "retired_at": retired_at}})
    (report,) = retention_purge(now=later)

    assert report.batch_ids == (reference.pk,)
    assert report.profile_ids == tuple(ReferenceProfile.objects.values_list("pk", flat=True))
    assert ReferenceProfile.objects.get().purged_at == later
    assert stored_files(storage_dir) == []


def test_the_purge_command_reports_what_it_purged(world, tmp_path, capsys):
    _data(world, tmp_path)
    amend(world, retention_days=1)

    call_command("purge_retention", "--dry-run")
    assert "would purge 1 batch(es)" in capsys.readouterr().out  # the production rows are from 2025

    call_command("purge_retention", "--model", "credit-pd")
    out = capsys.readouterr().out
    assert "credit-pd: purged 1 batch(es)" in out and "ledger entry" in out
    assert last_entry("monitors.retention.purged").actor_kind == "operator"


def test_rows_of_an_unknown_version_are_accepted_and_flagged_when_the_policy_says_flag(
    world, tmp_path, settings
):
    settings.FLEETWATCH_UNKNOWN_VERSION_POLICY = "flag"
    table = pa.concat_tables(
        [production_table(3, version="v2"), production_table(2, first_id=3, version="v9")]
    )

    batch = ingest(world, write(table, tmp_path / "b")).batch

    assert batch.flagged and batch.row_count == 5
    listed = InventoryException.objects.get()
    assert (
        listed.kind,
        listed.outcome,
        listed.version_label,
        listed.batch,
        listed.row_count,
        listed.first_rows,
    ) == ("unknown_version", "flagged", "v9", batch, 2, [4, 5])
    assert last_entry("monitors.batch.accepted").payload["flagged"] is True


def test_a_batch_of_only_unknown_versions_is_validated_against_the_champions_schema(
    world, tmp_path, settings
):
    settings.FLEETWATCH_UNKNOWN_VERSION_POLICY = "flag"

    batch = ingest(world, write(production_table(3, start=START, version="v0"), tmp_path / "b")).batch

    assert batch.flagged and batch.schema == world.schema
