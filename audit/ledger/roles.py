"""The runtime role's privileges on PostgreSQL.

Migrations run as the owner role. Afterwards the runtime role (the user in ``DATABASE_URL``) gets
ordinary read/write on the application's tables but only SELECT and INSERT on the ledger; it owns
nothing, so it can neither drop nor disable the ledger's triggers, and as a non-superuser it
cannot set ``session_replication_role`` to bypass them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

LEDGER_TABLES = ("ledger_entry",)


def runtime_role_name() -> str | None:
    runtime = settings.DATABASES["default"]
    if runtime["ENGINE"] != "django.db.backends.postgresql":
        return None
    return str(runtime.get("USER") or "") or None


def grant_runtime_privileges(using: str) -> None:
    connection = connections[using]
    role = runtime_role_name()
    if connection.vendor != "postgresql" or role is None:
        return
    if role == connection.settings_dict.get("USER"):
        return  # one role for both: nothing to separate (a development shortcut)
    quote = connection.ops.quote_name
    ledger = ", ".join(quote(t) for t in LEDGER_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quote(role)}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quote(role)}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(role)}")
        cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {ledger} FROM {quote(role)}")


def on_post_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # post_migrate fires once per app after the whole plan has run; the ledger's turn is enough.
    grant_runtime_privileges(using)
