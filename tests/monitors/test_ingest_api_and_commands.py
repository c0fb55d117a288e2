"""The two doors to batch_ingest: the REST endpoint (service-account tokens scoped to the model)
and ``manage.py ingest``; plus the storage's durable writes and the orphan sweep's command."""

from __future__ import annotations

import json
import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from monitors.models import Batch, InventoryException
from monitors.storage import data_storage
from registry.auth import token_issue
from registry.models import ServiceAccount
from tests.monitors.dataplane import data_rows, last_entry, production_table, stored_files, write
from tests.registry.factories import UserFactory
from vocabulary.roles import SERVICE_ACCOUNT

pytestmark = pytest.mark.django_db
CSV = "text/csv"


@pytest.fixture
def serving(world):
    """The serving stack's account, scoped to credit-pd; returns (client, account)."""
    issued = token_issue()
    account = ServiceAccount.objects.create(
        user=UserFactory(username="svc-serving", roles=[SERVICE_ACCOUNT]),
        name="serving-stack",
        token_prefix=issued.prefix,
        token_sha256=issued.sha256,
    )
    account.scoped_models.set([world.model])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    return client, account


def _url(slug="credit-pd", kind="production"):
    return f"/api/models/{slug}/batches/{kind}/"


def test_a_service_account_posts_a_csv_body_and_gets_the_batch(serving, tmp_path):
    client, account = serving
    body = write(production_table(25), tmp_path / "b", "csv").read_bytes()

    response = client.post(_url(), data=body, content_type=CSV)

    assert response.status_code == 201, response.content
    assert response.json()["row_count"] == 25 and response.json()["created"] is True
    entry = last_entry("monitors.batch.accepted")
    assert (entry.actor_kind, entry.actor_id, entry.actor_name) == (
        "service",
        str(account.pk),
        "serving-stack",
    )

    again = client.post(_url(), data=body, content_type=CSV)
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


def test_a_parquet_body_and_a_multipart_file_are_accepted(serving, tmp_path):
    client, _ = serving
    parquet = write(production_table(10), tmp_path / "a").read_bytes()
    assert client.post(_url(), data=parquet, content_type="application/vnd.apache.parquet").status_code == 201

    csv_path = write(production_table(10, first_id=100), tmp_path / "b", "csv")
    with csv_path.open("rb") as handle:
        response = client.post(_url(), data={"file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["format"] == "csv"


def test_a_refused_batch_gets_a_400_naming_rule_column_and_rows(serving, tmp_path, storage_dir):
    client, _ = serving
    body = write(production_table(5).drop_columns(["income"]), tmp_path / "b", "csv").read_bytes()

    response = client.post(_url(), data=body, content_type=CSV)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["rule"], error["column"], error["rows"]) == ("missing_column", "income", [])
    assert "`income`" in error["message"]
    assert stored_files(storage_dir) == []


def test_a_service_account_cannot_post_for_a_model_outside_its_scope(world, serving, tmp_path):
    client, _ = serving
    other = world.people.register(slug="fraud-score")
    body = write(production_table(5), tmp_path / "b", "csv").read_bytes()

    response = client.post(_url(slug=other.slug), data=body, content_type=CSV)

    assert response.status_code == 404
    assert not Batch.objects.exists()


def test_a_post_without_a_token_is_unauthorised(world, tmp_path):
    body = write(production_table(5), tmp_path / "b", "csv").read_bytes()

    assert APIClient().post(_url(), data=body, content_type=CSV).status_code == 401


def test_a_post_for_an_unregistered_model_is_refused_and_listed(serving, tmp_path):
    client, _ = serving
    body = write(production_table(5), tmp_path / "b", "csv").read_bytes()

    response = client.post(_url(slug="shadow-model"), data=body, content_type=CSV)

    assert response.status_code == 404 and response.json()["error"]["rule"] == "unregistered_model"
    assert InventoryException.objects.get().model_slug == "shadow-model"


def test_the_owner_lists_a_models_batches_and_reads_one(world, serving, tmp_path):
    client, _ = serving
    client.post(_url(), data=write(production_table(5), tmp_path / "b", "csv").read_bytes(), content_type=CSV)
    owner = APIClient()
    owner.force_authenticate(world.alice)

    listed = owner.get("/api/models/credit-pd/batches/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    detail = owner.get(f"/api/batches/{rows[0]['id']}/")

    assert [r["row_count"] for r in rows] == [5]
    assert detail.status_code == 200 and detail.json()["stored_sha256"] == rows[0]["stored_sha256"]


def test_the_ingest_command_prints_the_batch(world, tmp_path, capsys):
    path = write(production_table(12), tmp_path / "b")

    call_command("ingest", "--model", "credit-pd", "--kind", "production", str(path))

    printed = json.loads(capsys.readouterr().out)
    assert printed["row_count"] == 12 and printed["created"] is True
    assert last_entry("monitors.batch.accepted").actor_kind == "operator"


def test_the_ingest_command_exits_2_with_the_structured_error(world, tmp_path):
    path = write(production_table(12).drop_columns(["score"]), tmp_path / "b")

    with pytest.raises(CommandError) as caught:
        call_command("ingest", "--model", "credit-pd", "--kind", "production", str(path))

    assert caught.value.returncode == 2
    refused = json.loads(str(caught.value))["refused"]
    assert (refused["rule"], refused["column"]) == ("missing_column", "score")
    assert data_rows(world.model)["batches"] == 0


def test_the_ingest_command_registers_a_reference_for_a_version(world, tmp_path):
    from tests.monitors.dataplane import reference_table

    path = write(reference_table(300), tmp_path / "ref")

    call_command("ingest", "--model", "credit-pd", "--kind", "reference", "--model-version", "v2", str(path))

    assert Batch.objects.get().version == world.v2


def test_a_durable_write_fsyncs_and_leaves_no_temp_file(storage_dir, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))

    data_storage().save("batches/x/production/abc.parquet", ContentFile(b"bytes"))

    assert len(synced) == 2  # the file, then its directory
    assert [p.name for p in stored_files(storage_dir)] == ["abc.parquet"]


def test_a_write_that_fails_half_way_leaves_nothing(storage_dir):
    class Broken(ContentFile):
        def chunks(self, chunk_size=None):
            yield b"half"
            raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        data_storage().save("batches/x/production/half.parquet", Broken(b"whatever"))

    assert stored_files(storage_dir) == []


def test_the_sweep_removes_old_orphans_and_stale_temp_files_but_never_a_batchs_file(
    world, tmp_path, storage_dir, capsys
):
    from tests.monitors.dataplane import ingest

    batch = ingest(world, write(production_table(5), tmp_path / "b")).batch
    orphan = storage_dir / "batches" / str(world.model.uid) / "production" / ("f" * 64 + ".parquet")
    temp = orphan.parent / ".tmp-abandoned"
    young = orphan.parent / ("e" * 64 + ".parquet")
    for path in (orphan, temp, young):
        path.write_bytes(b"x")
    old = time.time() - 48 * 3600
    for path in (orphan, temp, storage_dir / batch.storage_name):
        os.utime(path, (old, old))

    call_command("sweep_orphans")

    assert "removed 2 orphaned file(s); kept 1 younger than the grace period" in capsys.readouterr().out
    assert sorted(p.name for p in stored_files(storage_dir)) == sorted(
        [young.name, f"{batch.stored_sha256}.parquet"]
    )
    assert set(last_entry("monitors.storage.orphans_swept").payload["files"]) == {
        str(orphan.relative_to(storage_dir)),
        str(temp.relative_to(storage_dir)),
    }
