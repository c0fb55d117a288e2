from __future__ import annotations

import pytest

from tests.registry.factories import RegistryWorld


@pytest.fixture
def world(db: None) -> RegistryWorld:
    return RegistryWorld()
