"""The data plane's settings: read from the environment, loud on a bad value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'batches': s.STORAGES['batches'], 'policy': s.FLEETWATCH_UNKNOWN_VERSION_POLICY}))"
)


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "FLEETWATCH_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "fleetwatch.settings",
        "PYTHONPATH": f"{REPO}:{REPO / 'platform'}",
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env={**base, **env}, capture_output=True, text=True
    )


def test_batches_are_stored_durably_on_local_disk_by_default(tmp_path):
    shown = json.loads(_run(SHOW, tmp_path, FLEETWATCH_STORAGE_DIR=str(tmp_path / "s")).stdout)

    assert shown["batches"] == {
        "BACKEND": "monitors.storage.DurableFileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "s")},
    }
    assert shown["policy"] == "refuse"


def test_an_s3_bucket_setting_moves_batches_to_s3(tmp_path):
    result = _run(
        SHOW,
        tmp_path,
        FLEETWATCH_S3_BUCKET="fleetwatch-data",
        FLEETWATCH_S3_ENDPOINT_URL="http://127.0.0.1:9000",
    )

    batches = json.loads(result.stdout)["batches"]
    assert batches["BACKEND"] == "storages.backends.s3.S3Storage"
    assert batches["OPTIONS"]["bucket_name"] == "fleetwatch-data"
    assert batches["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "FLEETWATCH_UNKNOWN_VERSION_POLICY",
            "ignore",
            "FLEETWATCH_UNKNOWN_VERSION_POLICY='ignore' is not one of",
        ),
        ("FLEETWATCH_INGEST_MAX_ROWS", "lots", "FLEETWATCH_INGEST_MAX_ROWS='lots' is not an integer"),
        ("FLEETWATCH_ORPHAN_GRACE_HOURS", "0", "FLEETWATCH_ORPHAN_GRACE_HOURS=0 is below its minimum of 1"),
    ],
)
def test_a_bad_data_plane_variable_stops_start_up_naming_it(name, value, message, tmp_path):
    result = _run(SHOW, tmp_path, **{name: value})

    assert result.returncode != 0 and message in result.stderr
