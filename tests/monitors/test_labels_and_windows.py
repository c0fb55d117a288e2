"""Labels join production records through their record ids; the window selector reads a model's
production rows and labels for [start, end) as of a point in the ingest history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from django.utils import timezone

from monitors.models import Label
from monitors.orphans import labels_expire, orphan_labels
from monitors.selectors import WindowInputsPurged, production_window
from tests.monitors.dataplane import (
    START,
    amend,
    ingest,
    labels_table,
    last_entry,
    production_table,
    write,
)

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _production(world, tmp_path, n, *, first_id=0, start=START, step=timedelta(hours=1), name="p"):
    return ingest(
        world, write(production_table(n, first_id=first_id, start=start, step=step), tmp_path / name)
    ).batch


def _labels(world, tmp_path, ids, values, name="l", **kwargs):
    return ingest(world, write(labels_table(ids, values, **kwargs), tmp_path / name), kind="labels").batch


def test_a_label_for_a_known_record_is_joined_at_once(world, tmp_path):
    _production(world, tmp_path, 5)

    batch = _labels(world, tmp_path, ["r1", "r3"], [1.0, 0.0])

    assert batch.label_summary == {"labels": 2, "joined": 2, "parked": 0, "corrections": 0}
    joined = Label.objects.filter(batch=batch, record_batch__isnull=False)
    assert set(joined.values_list("record_id", flat=True)) == {"r1", "r3"}


def test_a_label_for_an_unseen_record_is_parked_and_joined_when_the_record_arrives(world, tmp_path):
    labels = _labels(world, tmp_path, ["r2", "r99"], [1.0, 0.0])
    assert labels.label_summary == {"labels": 2, "joined": 0, "parked": 2, "corrections": 0}
    parked = Label.objects.get(batch=labels, record_id="r2")
    assert parked.record_batch is None and parked.parked_until > timezone.now()

    production = _production(world, tmp_path, 5)

    parked.refresh_from_db()
    assert parked.record_batch == production and parked.parked_until is None
    assert production.label_summary == {"parked_labels_joined": 1}
    assert Label.objects.get(record_id="r99").record_batch is None


def test_a_parked_label_whose_record_never_comes_is_reported_as_an_orphan(world, tmp_path, settings):
    settings.FLEETWATCH_LABEL_PARK_HOURS = 2
    labels = _labels(world, tmp_path, ["r7"], [1.0])

    assert labels_expire(now=timezone.now() + timedelta(hours=1)) == {}
    assert labels_expire(now=timezone.now() + timedelta(hours=3)) == {"credit-pd": 1}

    assert orphan_labels(world.model) == {labels.pk: 1}
    entry = last_entry("monitors.labels.orphaned")
    assert entry.payload == {"model": "credit-pd", "labels": 1, "label_batches": [labels.pk]}
    # an expired label no longer joins a record that turns up late
    _production(world, tmp_path, 10)
    assert Label.objects.get(record_id="r7").record_batch is None


def test_a_second_label_for_a_record_is_a_correction_and_both_are_kept(world, tmp_path):
    _production(world, tmp_path, 3)
    first = _labels(world, tmp_path, ["r0", "r1"], [0.0, 0.0], name="l1")

    second = _labels(world, tmp_path, ["r1"], [1.0], name="l2")

    assert second.label_summary["corrections"] == 1
    rows = Label.objects.filter(record_id="r1").order_by("sequence")
    assert [(r.batch_id, r.superseded_at_sequence) for r in rows] == [
        (first.pk, second.sequence),
        (second.pk, None),
    ]


def test_the_window_holds_the_rows_in_start_to_end_and_only_the_columns_asked_for(world, tmp_path):
    _production(world, tmp_path, 48, step=timedelta(hours=1))  # 2025-03-01 00:00 .. 03-02 23:00

    window = production_window(
        model=world.model,
        start=START + timedelta(hours=10),
        end=START + timedelta(hours=20),
        columns=["income", "channel"],
        with_labels=False,
    )

    assert window.row_count == 10
    assert window.columns == ("record_id", "timestamp", "model_version", "income", "channel")
    assert window.table["record_id"].to_pylist() == [f"r{i}" for i in range(10, 20)]
    income = window.array("income")
    assert income.dtype == np.float64 and not income.flags.writeable
    assert list(window.array("channel")[:3]) == ["online", "phone", "branch"]
    with pytest.raises(AttributeError):
        window.start = START  # frozen


def test_the_window_names_the_batches_and_label_batches_it_read(world, tmp_path):
    march = _production(world, tmp_path, 24, name="march")
    april = _production(
        world, tmp_path, 24, first_id=100, start=datetime(2025, 4, 1, tzinfo=UTC), name="april"
    )
    labels = _labels(world, tmp_path, ["r3", "r100"], [1.0, 0.0])

    window = production_window(model=world.model, start=START, end=START + DAY, columns=["score"])

    assert window.batch_sha256s == (march.stored_sha256,)
    assert window.label_batch_sha256s == (labels.stored_sha256,)
    assert april.stored_sha256 not in window.batch_sha256s
    label = window.array("default_flag")
    assert label[3] == 1.0 and np.isnan(label[0])
    assert window.labelled.sum() == 1


def test_the_window_as_of_an_earlier_point_does_not_see_a_later_correction(world, tmp_path):
    _production(world, tmp_path, 10)
    original = _labels(world, tmp_path, ["r1", "r2"], [0.0, 0.0], name="l1")
    correction = _labels(world, tmp_path, ["r1"], [1.0], name="l2")

    def labels_as_of(as_of):
        window = production_window(model=world.model, start=START, end=START + DAY, columns=[], as_of=as_of)
        return window.array("default_flag")[:3].tolist(), window.label_batch_sha256s

    before, read_before = labels_as_of(original.sequence)
    after, read_after = labels_as_of(correction.sequence)
    latest, _ = labels_as_of(None)

    assert before[1:] == [0.0, 0.0] and read_before == (original.stored_sha256,)
    assert after[1:] == [1.0, 0.0] and set(read_after) == {original.stored_sha256, correction.stored_sha256}
    assert latest[1:] == after[1:]
    # as of a time: the correction had not arrived
    assert labels_as_of(original.received_at)[0][1:] == before[1:]


def test_the_window_as_of_a_point_leaves_out_production_batches_ingested_later(world, tmp_path):
    early = _production(world, tmp_path, 5, name="early")
    _production(world, tmp_path, 5, first_id=50, start=START + timedelta(hours=6), name="late")

    window = production_window(
        model=world.model, start=START, end=START + DAY, columns=[], as_of=early.sequence
    )

    assert window.row_count == 5 and window.as_of_sequence == early.sequence


def test_the_window_can_be_limited_to_versions(world, tmp_path):
    after_v3 = datetime(2025, 7, 1, tzinfo=UTC)
    table = pa.concat_tables(
        [
            production_table(4, start=after_v3, version="v2"),
            production_table(3, first_id=4, start=after_v3, version="v3"),
        ]
    )
    ingest(world, write(table, tmp_path / "both"))

    window = production_window(
        model=world.model,
        start=after_v3,
        end=after_v3 + DAY,
        columns=[],
        versions=[world.v3],
        with_labels=False,
    )

    assert window.table["record_id"].to_pylist() == ["r4", "r5", "r6"]


def test_a_challenger_window_reads_only_batches_holding_its_rows(world, tmp_path):
    """A challenger whose schema adds a column: the champion's batches never had that column, and
    the challenger's window must neither read them nor cite them."""
    amend(world, versions={"v3": {"features": [{"name": "income_v3", "kind": "numeric"}]}})
    after_v3 = datetime(2025, 7, 1, tzinfo=UTC)
    champion = ingest(world, write(production_table(4, start=after_v3, version="v2"), tmp_path / "v2")).batch
    challenger_rows = production_table(3, first_id=4, start=after_v3, version="v3").select(
        ["record_id", "timestamp", "model_version", "prediction", "score"]
    )
    challenger_rows = challenger_rows.append_column("income_v3", pa.array([1.0, 2.0, 3.0]))
    challenger = ingest(world, write(challenger_rows, tmp_path / "v3")).batch

    window = production_window(
        model=world.model,
        start=after_v3,
        end=after_v3 + DAY,
        columns=["income_v3"],
        versions=[world.v3],
        with_labels=False,
    )

    assert window.table["income_v3"].to_pylist() == [1.0, 2.0, 3.0]
    assert window.batch_ids == (challenger.pk,) and champion.pk not in window.batch_ids


def test_the_window_skips_row_groups_outside_it(world, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from monitors.ingest import formats

    monkeypatch.setattr(formats, "ROWS_PER_CHUNK", 100)  # 10 row groups of 100 rows, one per 100 minutes
    _production(world, tmp_path, 1000, step=timedelta(minutes=1))
    read_groups: list[list[int]] = []
    original = pq.ParquetFile.iter_batches

    def spy(self, *args, **kwargs):
        read_groups.append(list(kwargs.get("row_groups") or []))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)

    window = production_window(
        model=world.model,
        start=START + timedelta(minutes=250),
        end=START + timedelta(minutes=350),
        columns=["age"],
        with_labels=False,
    )

    assert window.row_count == 100
    assert read_groups == [[2, 3]]


def test_a_window_over_purged_batches_says_so_and_names_the_ledger_entry(world, tmp_path):
    from monitors.retention import retention_purge

    _production(world, tmp_path, 5)
    (report,) = retention_purge(now=datetime(2030, 1, 1, tzinfo=UTC))

    with pytest.raises(WindowInputsPurged) as caught:
        production_window(model=world.model, start=START, end=START + DAY, columns=["age"])

    assert caught.value.ledger_sequences == (report.ledger_sequence,)
    assert f"ledger entries [{report.ledger_sequence}]" in str(caught.value)
