from __future__ import annotations

from typing import Any

import pytest

from tests.registry.api.world import ApiWorld


@pytest.fixture
def world(db: Any) -> ApiWorld:
    return ApiWorld()
