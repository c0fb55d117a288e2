"""Test-database plumbing on PostgreSQL with two roles.

The suite creates its database through the owner role, migrates as the owner (which grants the
runtime role its privileges) and runs every test as the runtime role, exactly as production does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.db import connections

from audit.ledger.roles import LEDGER_TABLES


def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def has_owner() -> bool:
    return "owner" in settings.DATABASES


def owner_connect(dbname: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
    config = settings.DATABASES["owner"]
    return psycopg.connect(
        host=config.get("HOST") or "127.0.0.1",
        port=config.get("PORT") or 5432,
        user=config["USER"],
        password=config.get("PASSWORD") or None,
        dbname=dbname or config["NAME"],
        **kwargs,
    )


def runtime_connect(**kwargs: Any) -> psycopg.Connection[Any]:
    config = settings.DATABASES["default"]
    return psycopg.connect(
        host=config.get("HOST") or "127.0.0.1",
        port=config.get("PORT") or 5432,
        user=config["USER"],
        password=config.get("PASSWORD") or None,
        dbname=config["NAME"],
        **kwargs,
    )


def _url(config: dict[str, Any]) -> str:
    password = f":{quote(config['PASSWORD'])}" if config.get("PASSWORD") else ""
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{quote(config['USER'])}{password}@{host}:{port}/{config['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process (a writer, a Celery worker) that must use the test database."""
    env = dict(os.environ)
    # Children import the apps the way manage.py does, whatever the editable install mapped.
    repo = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(repo / "platform"), env.get("PYTHONPATH", "")])
    env["DATABASE_URL"] = _url(settings.DATABASES["default"])
    if has_owner():
        env["DATABASE_OWNER_URL"] = _url(settings.DATABASES["owner"])
    env.update(extra)
    return env


def point_aliases_at(name: str) -> None:
    for alias in ("default", "owner"):
        if alias in settings.DATABASES:
            settings.DATABASES[alias]["NAME"] = name
            connections[alias].close()
            connections[alias].settings_dict["NAME"] = name


def create_test_database(name: str) -> None:
    owner = settings.DATABASES["owner"]["USER"]
    with owner_connect("postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')


def drop_test_database(name: str) -> None:
    for alias in ("default", "owner"):
        if alias in settings.DATABASES:
            connections[alias].close()
    with owner_connect("postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def grant_flush_to_runtime() -> None:
    """Django's test flush TRUNCATEs tables; the runtime role gets that here, in tests only, and
    never on the ledger, which the harness empties separately (see ``empty_ledger``)."""
    role = settings.DATABASES["default"]["USER"]
    ledger = ", ".join(f'"{t}"' for t in LEDGER_TABLES)
    with owner_connect(autocommit=True) as conn:
        conn.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.execute(f'REVOKE TRUNCATE ON {ledger} FROM "{role}"')


def exclude_ledger_from_flush() -> None:
    ops = connections["default"].ops
    original = ops.sql_flush

    def sql_flush(style: Any, tables: Any, **kwargs: Any) -> list[str]:
        return original(style, [t for t in tables if t not in LEDGER_TABLES], **kwargs)

    ops.sql_flush = sql_flush  # type: ignore[method-assign]


def empty_ledger() -> None:
    """Only a superuser may set ``session_replication_role``; with it, the append-only triggers
    stay silent for this one session, which is what lets the harness start each test clean."""
    with owner_connect(autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        for table in LEDGER_TABLES:
            conn.execute(f'DELETE FROM "{table}"')
