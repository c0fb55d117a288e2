from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def batch_storage(tmp_path: Path, settings) -> Path:
    """Batches and profiles of this test in a directory of their own (pass it to a worker as
    ``FLEETWATCH_STORAGE_DIR``)."""
    location = tmp_path / "storage"
    location.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "monitors.storage.DurableFileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location
