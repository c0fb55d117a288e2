from __future__ import annotations

from pathlib import Path

import pytest

from tests.monitors.dataplane import World, make_world


@pytest.fixture
def storage_dir(tmp_path: Path, settings: object) -> Path:
    """The data plane's storage in a temp dir (never var/)."""
    root = tmp_path / "storage"
    root.mkdir()
    settings.FLEETWATCH_STORAGE_DIR = root  # type: ignore[attr-defined]
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "batches": {
            "BACKEND": "monitors.storage.DurableFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def world(db: None, storage_dir: Path) -> World:
    return make_world()
