"""What ``/health/`` and ``manage.py healthcheck`` report: each dependency, reachable or not."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str


def probe_database() -> Probe:
    try:
        connection = connections["default"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = MigrationExecutor(connection).migration_plan(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    except Exception as exc:  # a health probe reports, it does not raise
        return Probe("database", False, f"{type(exc).__name__}: {exc}")
    if pending:
        return Probe("database", False, f"{len(pending)} migrations not applied")
    return Probe("database", True, connections["default"].vendor)


def probe_storage() -> Probe:
    directory = settings.FLEETWATCH_STORAGE_DIR
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".health-"):
            pass
    except OSError as exc:
        return Probe("storage", False, f"{directory}: {exc}")
    return Probe("storage", True, str(directory))


def probe_broker() -> Probe:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return Probe("broker", True, "none (checks run in-process)")
    from fleetwatch.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return Probe("broker", False, f"{type(exc).__name__}: {exc}")
    return Probe("broker", True, url.split("@")[-1])


def run_probes() -> list[Probe]:
    return [probe_database(), probe_storage(), probe_broker()]
