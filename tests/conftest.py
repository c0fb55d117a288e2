from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from tests.support import database
from tests.support.services import REDIS_URL, missing_service


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_test_environment: None, django_db_blocker: Any
) -> Iterator[None]:
    if not (database.is_postgres() and database.has_owner()):
        # SQLite (the embedded path): Django's own test database handling is right.
        from django.test.utils import setup_databases, teardown_databases

        with django_db_blocker.unblock():
            config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        yield
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)
        return

    from django.conf import settings

    name = "test_" + settings.DATABASES["default"]["NAME"]
    with django_db_blocker.unblock():
        database.create_test_database(name)
        database.point_aliases_at(name)
        call_command("migrate", database="owner", interactive=False, verbosity=0)
        database.grant_flush_to_runtime()
        database.exclude_ledger_from_flush()
    yield
    with django_db_blocker.unblock():
        database.drop_test_database(name)


@pytest.fixture(autouse=True)
def _empty_ledger_after_transactional_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    transactional = transactional or bool(marker and marker.kwargs.get("transaction"))
    if transactional and database.is_postgres() and database.has_owner():
        database.empty_ledger()


@pytest.fixture
def storage_dir(tmp_path: Path, settings: Any) -> Path:
    """The data plane's storage (batches and profiles) in a directory of this test's own, never
    var/: ``FLEETWATCH_STORAGE_DIR`` (hand it to a worker or a child process) and the ``batches``
    storage both point at it."""
    root = tmp_path / "storage"
    root.mkdir()
    settings.FLEETWATCH_STORAGE_DIR = root
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "monitors.storage.DurableFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def postgres() -> None:
    """Use in tests that are about PostgreSQL behaviour (roles, triggers, locks)."""
    if not (database.is_postgres() and database.has_owner()):
        missing_service("PostgreSQL with DATABASE_URL and DATABASE_OWNER_URL set (two roles)")


@pytest.fixture
def redis_url() -> str:
    """A Redis database reserved for the suite (``FLEETWATCH_TEST_REDIS_URL``), flushed first."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        missing_service(f"Redis at {REDIS_URL}")
    client.flushdb()
    return REDIS_URL


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
