from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from tests.registry.factories import RegistryWorld


@pytest.fixture
def world(db: None) -> RegistryWorld:
    return RegistryWorld()


@pytest.fixture(scope="module")
def seeded_fleet(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """``seed_fleet --models 60`` once per module, rolled back after the module's last test;
    each test runs in a savepoint inside it, as tests marked ``django_db`` do."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = io.StringIO()
            call_command("seed_fleet", "--models", "60", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
