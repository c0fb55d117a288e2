"""Real processes: an ingest killed with SIGKILL between its durable file write and its commit,
and two ingests of overlapping record ids at the same moment. Each child runs ``manage.py
ingest`` against the test database; one that is to pause runs it through
``tests.support.ingest_process``, which holds it at the point between the write and the commit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from monitors.models import Batch, RecordId
from monitors.orphans import orphan_files_sweep
from tests.monitors.dataplane import START, ingest, production_table, stored_files, write
from tests.support import database
from tests.support.ingest_process import paused_marker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]
REPO = Path(__file__).resolve().parents[2]


def _ingest_process(path: Path, storage_dir: Path, *, pause: Path | None = None) -> subprocess.Popen[str]:
    extra = {"FLEETWATCH_STORAGE_DIR": str(storage_dir), "FLEETWATCH_OPERATOR": "process-test"}
    command = ["ingest", "--model", "credit-pd", "--kind", "production", str(path)]
    # the paused child stops before its commit until ``pause`` appears (tests/support/ingest_process.py)
    entry = ["manage.py"] if pause is None else ["-m", "tests.support.ingest_process", str(pause)]
    return subprocess.Popen(
        [sys.executable, *entry, *command],
        cwd=REPO,
        env=database.subprocess_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, what: str, child: subprocess.Popen[str] | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if child is not None and child.poll() is not None:
            out, err = child.communicate()
            pytest.fail(f"the child exited ({child.returncode}) before {what}: {out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_an_ingest_killed_between_file_write_and_commit_can_be_posted_again_and_its_file_is_swept(
    world, tmp_path, storage_dir
):
    path = write(production_table(200), tmp_path / "batch")
    pause = tmp_path / "release"
    child = _ingest_process(path, storage_dir, pause=pause)
    _wait_for(paused_marker(pause).exists, "the pause before commit", child)

    written = stored_files(storage_dir)
    assert len(written) == 1 and written[0].suffix == ".parquet"  # durable: fsynced and linked in place
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)

    assert child.returncode == -signal.SIGKILL
    assert Batch.objects.count() == 0 and RecordId.objects.count() == 0  # the commit never happened
    name = str(written[0].relative_to(storage_dir))

    # within the grace period the sweep leaves the file alone: it could be an ingest in flight
    deleted, young = orphan_files_sweep()
    assert (deleted, young) == ([], [name])

    an_hour_past_grace = time.time() - (24 + 1) * 3600
    os.utime(written[0], (an_hour_past_grace, an_hour_past_grace))
    call_command("sweep_orphans")
    assert stored_files(storage_dir) == []

    result = ingest(world, path)
    assert result.created and result.batch.row_count == 200
    assert RecordId.objects.count() == 200 and len(stored_files(storage_dir)) == 1


def test_of_two_ingests_with_overlapping_record_ids_at_the_same_moment_the_second_is_refused(
    world, tmp_path, storage_dir
):
    first = write(production_table(100), tmp_path / "first")
    second = write(production_table(100, first_id=50, start=START.replace(day=2)), tmp_path / "second")
    pause = tmp_path / "release-first"

    a = _ingest_process(first, storage_dir, pause=pause)
    _wait_for(paused_marker(pause).exists, "the first ingest to reach its commit", a)
    b = _ingest_process(second, storage_dir)
    _wait_for(lambda: _waiting_on_the_ingest_lock() >= 1, "the second ingest to wait for the first", b)
    pause.touch()

    _, a_err = a.communicate(timeout=120)
    b_out, b_err = b.communicate(timeout=120)

    assert a.returncode == 0, a_err
    assert b.returncode == 2, b_out + b_err
    assert "Traceback" not in b_err and "IntegrityError" not in b_err
    refusal = json.loads(b_err.split("CommandError: ", 1)[1])["refused"]
    assert refusal["rule"] == "duplicate_record_id" and refusal["column"] == "record_id"
    assert refusal["rows"] == [1, 2, 3, 4, 5] and refusal["count"] == 50
    assert Batch.objects.count() == 1 and RecordId.objects.count() == 100
    assert len(stored_files(storage_dir)) == 1


def test_two_processes_posting_overlapping_batches_at_once_never_both_pass(world, tmp_path, storage_dir):
    paths = [
        write(
            production_table(300, first_id=offset, start=START.replace(day=1 + offset // 100)),
            tmp_path / f"batch{offset}",
        )
        for offset in (0, 200)
    ]

    children = [_ingest_process(path, storage_dir) for path in paths]
    results = [(child.wait(timeout=120), child.communicate()[1]) for child in children]

    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert '"rule": "duplicate_record_id"' in refused and "Traceback" not in refused
    assert Batch.objects.count() == 1 and RecordId.objects.count() == 300


def _waiting_on_the_ingest_lock() -> int:
    with database.owner_connect(autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
    return int(row[0])
