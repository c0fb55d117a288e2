"""Database configuration from URLs.

The application connects as a *runtime* role (``DATABASE_URL``) that may read and append to the
ledger but never change it; migrations run as the *owner* role (``DATABASE_OWNER_URL``), which
owns the tables and their triggers. Without an owner URL both are the same connection, which is
what the embedded SQLite default does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

SUPPORTED_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")


def database_from_url(variable: str, url: str, *, test_name: str | None = None) -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{variable} is not a valid database URL: {exc}") from exc
    if config.get("ENGINE") not in SUPPORTED_ENGINES:
        raise ImproperlyConfigured(
            f"{variable} uses {config.get('ENGINE')!r}; Fleetwatch supports postgres:// and sqlite://"
        )
    if config["ENGINE"].endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy timeout
        # instead of one failing when it upgrades a read lock (the ledger reads its head first).
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 30}
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    if test_name:
        config["TEST"] = {"NAME": test_name}
    return config


def databases(runtime_url: str, owner_url: str | None) -> dict[str, dict[str, Any]]:
    runtime = database_from_url("DATABASE_URL", runtime_url)
    result = {"default": runtime}
    if owner_url:
        owner = database_from_url("DATABASE_OWNER_URL", owner_url)
        if owner["ENGINE"] != runtime["ENGINE"] or owner.get("NAME") != runtime.get("NAME"):
            raise ImproperlyConfigured(
                "DATABASE_OWNER_URL must name the same database as DATABASE_URL "
                f"(got {owner.get('NAME')!r} and {runtime.get('NAME')!r})"
            )
        result["owner"] = owner
    return result
