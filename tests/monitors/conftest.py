from __future__ import annotations

from pathlib import Path

import pytest

from tests.monitors.dataplane import World, make_world


@pytest.fixture
def world(db: None, storage_dir: Path) -> World:
    return make_world()
